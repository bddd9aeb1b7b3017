"use strict";
// compiled from web/src/app.ts
Object.defineProperty(exports, "__esModule", { value: true });
exports.start = void 0;
function start(settings) {
    var el = document.getElementById(settings.root);
    el.textContent = "hello";
}
exports.start = start;
//# sourceMappingURL=main.js.map
