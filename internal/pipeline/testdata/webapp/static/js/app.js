// The application's own JavaScript: it applies the theme the URL names.
// One finding: eval of a string built from the URL.
function applyTheme() {
  const theme = window.location.hash.slice(1);
  eval("setTheme_" + theme + "()");
}

document.addEventListener("DOMContentLoaded", applyTheme);
