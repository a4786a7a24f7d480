// Progressive enhancement only: every form works without this file.
// Counts down the "Send new code" cooldown that the server enforces anyway.
document.addEventListener('DOMContentLoaded', function () {
  var button = document.querySelector('[data-cooldown]');
  if (!button) return;
  var left = parseInt(button.getAttribute('data-cooldown') || '0', 10);
  var status = document.getElementById('cooldown-status');
  var template = status ? status.getAttribute('data-template') || '' : '';
  function tick() {
    if (left <= 0) {
      button.disabled = false;
      if (status) status.textContent = '';
      return;
    }
    button.disabled = true;
    if (status) status.textContent = template.replace('{seconds}', String(left));
    left -= 1;
    setTimeout(tick, 1000);
  }
  tick();
});
