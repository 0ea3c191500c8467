// Every text of the UI, 中文 and English, in one dictionary. 中文 is the default; the choice is
// kept in localStorage. Names that come from the API (districts, key areas, KPIs) carry
// name_zh / name_en and are picked with `nameOf`.

const STORAGE_KEY = "mastplan.lang";
export const LANGS = ["zh", "en"];

const DICT = {
  zh: {
    "app.title": "mastplan · 重庆 5G 站址规划与共享",
    "app.short": "5G 站址规划与共享",
    "lang.switch": "English",
    "lang.switch.label": "Switch to English",
    "nav.label": "主导航",
    "nav.map": "地图",
    "nav.sharing": "共享申请",
    "nav.dashboard": "指标看板",
    "nav.cases": "协调案件",
    "user.as": "{name}（{org}，{role}）",
    "user.logout": "退出登录",
    "role.regulator": "通信管理局",
    "role.operator": "运营商",
    "role.owner": "设施产权方",
    "role.district": "区县政府",
    "role.viewer": "只读用户",

    "login.title": "登录",
    "login.intro": "重庆市 5G 基站站址规划、共建共享与进度跟踪平台。",
    "login.name": "用户名",
    "login.password": "密码",
    "login.submit": "登录",
    "login.busy": "正在登录…",
    "login.missing.name": "请输入用户名。",
    "login.missing.password": "请输入密码。",
    "login.wrong": "用户名或密码错误。",
    "login.throttled": "登录失败次数过多，请稍后再试。",
    "login.failed": "登录失败：{detail}",
    "login.expired": "会话已过期，请重新登录。",

    "error.title": "出错了",
    "error.network": "无法连接服务器：{detail}",
    "error.http": "请求被拒绝（{status}）：{detail}",
    "error.csrf": "会话的安全令牌已失效，请重新登录。",
    "error.missing": "服务器尚未提供此功能（{path}）。",
    "common.loading": "正在加载…",
    "common.none": "无",
    "common.yes": "是",
    "common.no": "否",
    "common.close": "关闭",
    "common.cancel": "取消",
    "common.refresh": "刷新",
    "common.more": "加载更多",
    "common.saved": "已保存。",

    "map.title": "站址地图",
    "map.region": "地图",
    "map.zoomIn": "放大",
    "map.zoomOut": "缩小",
    "map.layers": "图层",
    "map.districts": "区县",
    "map.keyAreas": "重点区域（按建设年度着色）",
    "map.phase": "{year} 年",
    "map.structures": "可挂载设施",
    "map.free": "空余挂载位",
    "map.full": "已满",
    "map.cluster": "{count} 个设施，共 {free} 个空余挂载位",
    "map.clusterLegend": "聚合：设施数与空余挂载位合计",
    "map.zoomTo": "定位到重点区域",
    "map.zoomTo.choose": "— 选择重点区域 —",
    "map.zoomTo.button": "定位",
    "map.zoomInHint": "放大地图（第 {zoom} 级以上）即可查看可挂载设施。",
    "map.inView": "当前视野内的设施（{count}）",
    "map.inView.truncated": "当前视野内设施较多，只显示前 {count} 个；请继续放大。",
    "map.inView.empty": "当前视野内没有设施。",
    "map.inView.listLabel": "当前视野内的设施列表",
    "map.filter.freeOnly": "只看有空余挂载位的",
    "map.loading": "正在加载设施…",
    "map.tilesOff": "无底图：仅显示本平台的矢量图层。",
    "map.district": "区县：{name}",
    "map.keyArea": "重点区域：{name}（{year} 年）",

    "structure.title": "设施 {id}",
    "structure.kind": "类型",
    "structure.owner": "产权单位",
    "structure.height": "高度",
    "structure.positions": "挂载位",
    "structure.freeOf": "空余 {free} / 共 {total}",
    "structure.open": "开放共享",
    "structure.notOpen": "此设施暂未开放共享。",
    "structure.noFree": "此设施没有空余挂载位。",
    "structure.onlyOperators": "只有运营商用户可以申请共享。",
    "structure.unit.m": "{value} 米",

    "kind.telecom_tower": "通信铁塔",
    "kind.lamp_pole": "路灯杆",
    "kind.traffic_signal_pole": "交通信号杆",
    "kind.cctv_pole": "视频监控杆",
    "kind.power_pole": "电力杆",
    "kind.rooftop": "楼顶",
    "kind.smart_pole": "智慧杆（多杆合一）",

    "request.title": "申请共享",
    "request.positions": "挂载位数",
    "request.payload": "设备重量（千克）",
    "request.power": "用电功率（千瓦）",
    "request.fees": "费用报价（可选）",
    "request.fee.space_rent": "空间租赁费（元/挂载位/年）",
    "request.fee.electricity": "电费（元/千瓦时）",
    "request.fee.maintenance": "维护费（元/站/年）",
    "request.feeHint": "路灯杆等公共设施按规划免收空间租赁费和维护费；禁止收取进场费、协调费、分摊费。",
    "request.submit": "申请共享",
    "request.busy": "正在提交…",
    "request.done": "申请 {id} 已发出，状态：{state}；答复期限 {due}。",
    "request.goto": "查看共享申请",
    "request.invalid.positions": "挂载位数应为 1 到 {max} 之间的整数。",
    "request.invalid.number": "“{field}”应为不小于 0 的数字。",

    "sharing.title": "共享申请",
    "sharing.filter": "状态",
    "sharing.filter.all": "全部",
    "sharing.empty": "没有可见的共享申请。",
    "sharing.col.id": "编号",
    "sharing.col.state": "状态",
    "sharing.col.operator": "运营商",
    "sharing.col.structure": "设施",
    "sharing.col.owner": "产权单位",
    "sharing.col.due": "答复期限",
    "sharing.col.open": "详情",
    "sharing.open": "打开申请 {id}",
    "sharing.detail": "申请 {id}",
    "sharing.positionCount": "挂载位数",
    "sharing.booked": "已分配挂载位",
    "sharing.payload": "设备重量",
    "sharing.power": "用电功率",
    "sharing.fees": "费用报价",
    "sharing.filedBy": "提交人",
    "sharing.submittedAt": "提交时间",
    "sharing.lastReason": "最近理由",
    "sharing.version": "版本",
    "sharing.actions": "可执行的操作",
    "sharing.noActions": "当前状态下您没有可执行的操作。",
    "sharing.reason": "理由（必填）",
    "sharing.reason.missing": "请填写理由。",
    "sharing.confirm": "确认{action}",
    "sharing.moved": "申请 {id} 已{action}，当前状态：{state}。",
    "sharing.stale": "该申请已被他人修改（412）：{detail}。已重新加载，请确认后再操作。",
    "sharing.conflict": "不允许此操作（409）：{detail}",
    "sharing.feePolicy": "费用报价不符合收费政策（422），已为通信管理局立案：{detail}",

    "state.draft": "草稿",
    "state.submitted": "已提交",
    "state.under_review": "审核中",
    "state.changes_requested": "待修改",
    "state.approved": "已批准",
    "state.rejected": "已拒绝",
    "state.withdrawn": "已撤回",
    "state.installed": "已安装",
    "state.active": "使用中",
    "state.released": "已释放",

    "action.submit": "提交",
    "action.review": "开始审核",
    "action.approve": "批准",
    "action.reject": "拒绝",
    "action.request-changes": "退回修改",
    "action.withdraw": "撤回",
    "action.install": "确认安装",
    "action.activate": "确认启用",
    "action.release": "释放",
    "action.force-release": "强制释放",

    "dashboard.title": "指标看板（全市）",
    "dashboard.kpi": "指标",
    "dashboard.value": "当前值",
    "dashboard.target": "目标",
    "dashboard.byYear": "{year} 年底",
    "dashboard.status": "状态",
    "dashboard.met": "已达标",
    "dashboard.notMet": "未达标",
    "dashboard.noTarget": "无目标",
    "dashboard.asOf": "截至 {date}",
    "dashboard.missing": "指标接口（/api/v1/kpis）尚未提供，下面只显示共享申请的统计。",
    "dashboard.requests": "共享申请（按状态）",
    "dashboard.cases": "待决协调案件",
    "dashboard.reference": "参考：{value}（{label}）",

    "unit.count": "个",
    "unit.fraction": "%",
    "unit.ratio": "",
    "unit.per_10k": "个/万人",
    "unit.yuan": "元",
    "unit.yuan.big": "{value} 亿元",

    "cases.title": "协调案件（一站式协调）",
    "cases.filter.open": "待决",
    "cases.filter.decided": "已决",
    "cases.filter.all": "全部",
    "cases.empty": "没有案件。",
    "cases.col.id": "编号",
    "cases.col.kind": "类型",
    "cases.col.request": "申请",
    "cases.col.opened": "立案时间",
    "cases.col.state": "状态",
    "cases.col.detail": "情况",
    "cases.col.decision": "决定",
    "cases.kind.overdue_answer": "逾期未答复",
    "cases.kind.fee_complaint": "收费投诉",
    "cases.state.open": "待决",
    "cases.state.decided": "已决",
    "cases.outcome": "结论",
    "cases.outcome.upheld": "成立",
    "cases.outcome.dismissed": "驳回",
    "cases.decision": "决定内容",
    "cases.decide": "作出决定",
    "cases.decided": "案件 {id} 已决定：{outcome}。",
    "cases.decision.missing": "请填写决定内容。",
    "cases.onlyRegulator": "只有通信管理局可以作出决定。",
  },
  en: {
    "app.title": "mastplan · Chongqing 5G site planning and sharing",
    "app.short": "5G site planning and sharing",
    "lang.switch": "中文",
    "lang.switch.label": "切换到中文",
    "nav.label": "Main navigation",
    "nav.map": "Map",
    "nav.sharing": "Sharing requests",
    "nav.dashboard": "Dashboard",
    "nav.cases": "Cases",
    "user.as": "{name} ({org}, {role})",
    "user.logout": "Log out",
    "role.regulator": "regulator",
    "role.operator": "operator",
    "role.owner": "structure owner",
    "role.district": "district government",
    "role.viewer": "viewer",

    "login.title": "Log in",
    "login.intro": "Chongqing's platform to plan, share and track 5G base-station sites.",
    "login.name": "User name",
    "login.password": "Password",
    "login.submit": "Log in",
    "login.busy": "Logging in…",
    "login.missing.name": "Enter your user name.",
    "login.missing.password": "Enter your password.",
    "login.wrong": "Wrong user name or password.",
    "login.throttled": "Too many failed logins: try again later.",
    "login.failed": "Login failed: {detail}",
    "login.expired": "Your session has ended: log in again.",

    "error.title": "Something went wrong",
    "error.network": "Cannot reach the server: {detail}",
    "error.http": "Refused ({status}): {detail}",
    "error.csrf": "The session's security token is no longer valid: log in again.",
    "error.missing": "The server does not offer this yet ({path}).",
    "common.loading": "Loading…",
    "common.none": "none",
    "common.yes": "yes",
    "common.no": "no",
    "common.close": "Close",
    "common.cancel": "Cancel",
    "common.refresh": "Refresh",
    "common.more": "Load more",
    "common.saved": "Saved.",

    "map.title": "Site map",
    "map.region": "Map",
    "map.zoomIn": "Zoom in",
    "map.zoomOut": "Zoom out",
    "map.layers": "Layers",
    "map.districts": "Districts",
    "map.keyAreas": "Key areas (coloured by phase year)",
    "map.phase": "{year}",
    "map.structures": "Structures",
    "map.free": "free mount positions",
    "map.full": "full",
    "map.cluster": "{count} structures, {free} free mount positions in all",
    "map.clusterLegend": "cluster: structures and their free positions",
    "map.zoomTo": "Zoom to a key area",
    "map.zoomTo.choose": "— choose a key area —",
    "map.zoomTo.button": "Zoom",
    "map.zoomInHint": "Zoom in (level {zoom} or closer) to see the structures.",
    "map.inView": "Structures in view ({count})",
    "map.inView.truncated": "Many structures here: only the first {count} are shown; zoom in further.",
    "map.inView.empty": "No structures in view.",
    "map.inView.listLabel": "List of the structures in view",
    "map.filter.freeOnly": "Only those with free positions",
    "map.loading": "Loading structures…",
    "map.tilesOff": "No basemap: only this platform's vector layers.",
    "map.district": "District: {name}",
    "map.keyArea": "Key area: {name} ({year})",

    "structure.title": "Structure {id}",
    "structure.kind": "Kind",
    "structure.owner": "Owner",
    "structure.height": "Height",
    "structure.positions": "Mount positions",
    "structure.freeOf": "{free} free of {total}",
    "structure.open": "Open for sharing",
    "structure.notOpen": "This structure is not open for sharing.",
    "structure.noFree": "This structure has no free mount position.",
    "structure.onlyOperators": "Only operators can request space.",
    "structure.unit.m": "{value} m",

    "kind.telecom_tower": "telecom tower",
    "kind.lamp_pole": "lamp pole",
    "kind.traffic_signal_pole": "traffic-signal pole",
    "kind.cctv_pole": "CCTV pole",
    "kind.power_pole": "power pole",
    "kind.rooftop": "rooftop",
    "kind.smart_pole": "smart pole",

    "request.title": "Request space",
    "request.positions": "Mount positions",
    "request.payload": "Equipment weight (kg)",
    "request.power": "Power (kW)",
    "request.fees": "Fee offer (optional)",
    "request.fee.space_rent": "Space rent (yuan per position per year)",
    "request.fee.electricity": "Electricity (yuan per kWh)",
    "request.fee.maintenance": "Maintenance (yuan per site per year)",
    "request.feeHint": "Public facilities such as lamp poles are opened free of rent and maintenance; entry, coordination and apportionment fees are prohibited.",
    "request.submit": "Request space",
    "request.busy": "Submitting…",
    "request.done": "Request {id} filed, now {state}; answer due {due}.",
    "request.goto": "See the sharing requests",
    "request.invalid.positions": "Mount positions must be a whole number from 1 to {max}.",
    "request.invalid.number": "“{field}” must be a number of 0 or more.",

    "sharing.title": "Sharing requests",
    "sharing.filter": "State",
    "sharing.filter.all": "all",
    "sharing.empty": "No sharing requests you may see.",
    "sharing.col.id": "No.",
    "sharing.col.state": "State",
    "sharing.col.operator": "Operator",
    "sharing.col.structure": "Structure",
    "sharing.col.owner": "Owner",
    "sharing.col.due": "Answer due",
    "sharing.col.open": "Details",
    "sharing.open": "Open request {id}",
    "sharing.detail": "Request {id}",
    "sharing.positionCount": "Mount positions",
    "sharing.booked": "Booked positions",
    "sharing.payload": "Equipment weight",
    "sharing.power": "Power",
    "sharing.fees": "Fee offer",
    "sharing.filedBy": "Filed by",
    "sharing.submittedAt": "Submitted",
    "sharing.lastReason": "Last reason",
    "sharing.version": "Version",
    "sharing.actions": "What you can do",
    "sharing.noActions": "Nothing you can do with this request now.",
    "sharing.reason": "Reason (required)",
    "sharing.reason.missing": "Give a reason.",
    "sharing.confirm": "Confirm: {action}",
    "sharing.moved": "Request {id}: {action} done; now {state}.",
    "sharing.stale": "Someone changed this request meanwhile (412): {detail}. Reloaded: check it and try again.",
    "sharing.conflict": "Not allowed (409): {detail}",
    "sharing.feePolicy": "The fee offer breaks the fee policy (422); a case was opened for the regulator: {detail}",

    "state.draft": "draft",
    "state.submitted": "submitted",
    "state.under_review": "under review",
    "state.changes_requested": "changes requested",
    "state.approved": "approved",
    "state.rejected": "rejected",
    "state.withdrawn": "withdrawn",
    "state.installed": "installed",
    "state.active": "active",
    "state.released": "released",

    "action.submit": "Submit",
    "action.review": "Start review",
    "action.approve": "Approve",
    "action.reject": "Reject",
    "action.request-changes": "Request changes",
    "action.withdraw": "Withdraw",
    "action.install": "Confirm installation",
    "action.activate": "Confirm activation",
    "action.release": "Release",
    "action.force-release": "Force release",

    "dashboard.title": "Dashboard (whole city)",
    "dashboard.kpi": "KPI",
    "dashboard.value": "Value",
    "dashboard.target": "Target",
    "dashboard.byYear": "by end {year}",
    "dashboard.status": "Status",
    "dashboard.met": "met",
    "dashboard.notMet": "not met",
    "dashboard.noTarget": "no target",
    "dashboard.asOf": "as of {date}",
    "dashboard.missing": "The KPI endpoint (/api/v1/kpis) is not there yet; below are the sharing request counts only.",
    "dashboard.requests": "Sharing requests by state",
    "dashboard.cases": "Open cases",
    "dashboard.reference": "reference: {value} ({label})",

    "unit.count": "",
    "unit.fraction": "%",
    "unit.ratio": "",
    "unit.per_10k": "per 10,000 people",
    "unit.yuan": "yuan",
    "unit.yuan.big": "{value} billion yuan",

    "cases.title": "Cases (one-stop coordination)",
    "cases.filter.open": "open",
    "cases.filter.decided": "decided",
    "cases.filter.all": "all",
    "cases.empty": "No cases.",
    "cases.col.id": "No.",
    "cases.col.kind": "Kind",
    "cases.col.request": "Request",
    "cases.col.opened": "Opened",
    "cases.col.state": "State",
    "cases.col.detail": "Details",
    "cases.col.decision": "Decision",
    "cases.kind.overdue_answer": "overdue answer",
    "cases.kind.fee_complaint": "fee complaint",
    "cases.state.open": "open",
    "cases.state.decided": "decided",
    "cases.outcome": "Outcome",
    "cases.outcome.upheld": "upheld",
    "cases.outcome.dismissed": "dismissed",
    "cases.decision": "Decision",
    "cases.decide": "Decide",
    "cases.decided": "Case {id} decided: {outcome}.",
    "cases.decision.missing": "Write the decision.",
    "cases.onlyRegulator": "Only the regulator decides cases.",
  },
};

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

let current = LANGS.includes(stored()) ? stored() : "zh";
const listeners = new Set();

export function lang() {
  return current;
}

export function setLang(next) {
  if (!LANGS.includes(next) || next === current) return;
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  applyDocumentLang();
  for (const fn of listeners) fn(next);
}

export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function applyDocumentLang() {
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  document.title = t("app.title");
}

/** The text of `key` in the current language, with `{name}` placeholders filled in. */
export function t(key, params = {}) {
  const text = DICT[current][key] ?? DICT.zh[key];
  if (text === undefined) {
    console.warn(`mastplan: no text for ${key}`);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (_, k) => (k in params ? String(params[k]) : `{${k}}`));
}

/** Whether the dictionary has `key` (for values from the API without a translation). */
export function has(key) {
  return key in DICT[current];
}

/** A text of the dictionary if it has `key`, else `fallback` (an API value shown as is). */
export function tOr(key, fallback) {
  return has(key) ? t(key) : fallback;
}

/** The name of an API object in the current language: name_zh / name_en (or names.zh /
 * names.en), else its code. */
export function nameOf(obj, fallback = "") {
  if (!obj) return fallback;
  const names = obj.names && typeof obj.names === "object" ? obj.names : {};
  const wanted = obj[`name_${current}`] || names[current];
  return wanted || obj.name_zh || names.zh || obj.name_en || names.en || obj.code || fallback;
}

/** A number in the current language's format. */
export function num(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return "—";
  return new Intl.NumberFormat(current === "zh" ? "zh-CN" : "en-GB", {
    maximumFractionDigits: digits,
    minimumFractionDigits: 0,
  }).format(value);
}

/** A date or date-time from the API in the current language (Chongqing time). */
export function when(value, withTime = false) {
  if (!value) return "—";
  const d = new Date(value.length === 10 ? `${value}T00:00:00+08:00` : value);
  if (Number.isNaN(d.getTime())) return String(value);
  const opts = { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit" };
  if (withTime) Object.assign(opts, { hour: "2-digit", minute: "2-digit" });
  return new Intl.DateTimeFormat(current === "zh" ? "zh-CN" : "en-CA", opts).format(d);
}

export const _dictForTests = DICT;
