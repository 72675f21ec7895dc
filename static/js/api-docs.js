// The API documentation (/docs): Swagger UI, configured by the page's JSON data block.
// "Try it out" from a signed-in browser sends the session cookie; a request that changes
// something also needs the CSRF token, which is copied here from its cookie (a request
// with a personal access token needs none).
(function () {
  var config = JSON.parse(document.getElementById("swagger-ui-config").textContent);
  var unsafe = /^(POST|PUT|PATCH|DELETE)$/i;
  config.requestInterceptor = function (request) {
    var token = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]*)/);
    var headers = request.headers || {};
    if (token && unsafe.test(request.method || "") && !headers.Authorization) {
      headers["X-CSRFToken"] = decodeURIComponent(token[1]);
      request.headers = headers;
    }
    return request;
  };
  config.presets = [SwaggerUIBundle.presets.apis];
  window.ui = SwaggerUIBundle(config);
})();
