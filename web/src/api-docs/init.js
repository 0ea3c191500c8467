// The API docs page (/api/v1/docs): Swagger UI from the npm package swagger-ui-dist, copied
// into the bundle at build time, over our own OpenAPI document. Nothing is fetched from
// outside: no validator badge, no CDN. A separate script (not inline) so that the page keeps
// the UI's strict Content-Security-Policy.
/* global SwaggerUIBundle */
window.addEventListener("DOMContentLoaded", () => {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // a write from "Try it out" in the tab that logged in carries its CSRF token
    requestInterceptor: (req) => {
      try {
        const token = sessionStorage.getItem("mastplan.csrf");
        if (token && req.method && req.method.toUpperCase() !== "GET") req.headers["X-CSRF-Token"] = token;
      } catch {
        /* no storage: the request goes as it is */
      }
      return req;
    },
  });
});
