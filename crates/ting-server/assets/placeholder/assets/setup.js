// The setup token travels in the URL fragment, which browsers never send to the server or put
// in logs; this script posts it with the form.
const form = document.getElementById('setup');
const status = document.getElementById('status');
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
  const body = { setup_token: token, username: form.username.value, password: form.password.value };
  const res = await fetch('/api/v1/setup', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  if (res.ok) {
    status.textContent = 'Administrator created. You can now sign in.';
    form.remove();
  } else {
    const err = await res.json().catch(() => ({ message: res.statusText }));
    status.textContent = 'Could not create the administrator: ' + err.message;
  }
});
