// The application's own code.
export function start(settings) {
  const el = document.getElementById(settings.root);
  el.textContent = "hello";
}
