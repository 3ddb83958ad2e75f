// The chat page: logs in through the auth API (proxied by the message service at /auth), lists
// channels, and chats through the SDK, showing connection state and reconnects.
import { ChatClient } from '/sdk/index.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const wsScheme = location.protocol === 'https:' ? 'wss' : 'ws';
// ?ws=url1,url2 lists instances to rotate through; by default the one serving the page.
const wsUrls = params.get('ws') ? params.get('ws').split(',') : [`${wsScheme}://${location.host}/ws`];

let token = null;
let me = null;
let client = null;
let current = null;
const names = new Map();

async function api(path, options = {}) {
  const res = await fetch(path, {
    method: options.method ?? 'GET',
    headers: {
      ...(options.body ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: options.body ? JSON.stringify(options.body) : undefined,
  });
  const body = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}

async function signIn(kind) {
  const username = $('username').value.trim();
  const password = $('password').value;
  const body =
    kind === 'signup' ? { username, password, email: `${username}@example.test` } : { username, password };
  try {
    const session = await api(`/auth/api/v1/auth/${kind}`, { method: 'POST', body });
    token = session.accessToken;
    me = session.user;
    $('login').hidden = true;
    $('chat').hidden = false;
    connect();
    await loadChannels();
  } catch (err) {
    $('login-error').textContent = err.message;
  }
}

function connect() {
  client = new ChatClient({ urls: wsUrls, token: () => token });
  client.on('state', (state) => {
    $('state').dataset.state = state;
    $('state').textContent = state;
    $('reconnects').textContent = `reconnects: ${client.reconnects}`;
  });
  client.on('message', (event) => {
    if (event.channelId === current) render(event.message);
  });
  client.on('update', (event) => {
    if (event.channelId === current) render(event.message);
  });
  client.connect();
}

async function loadChannels() {
  const { items } = await api('/auth/api/v1/me/channels');
  const list = $('channels');
  list.replaceChildren();
  for (const channel of items) {
    names.set(channel.id, channel.name);
    const li = document.createElement('li');
    li.textContent = `# ${channel.name}`;
    li.dataset.id = channel.id;
    li.onclick = () => openChannel(channel.id);
    list.append(li);
  }
}

function openChannel(id) {
  if (current) client.unsubscribe(current);
  current = id;
  for (const li of $('channels').children) li.classList.toggle('active', li.dataset.id === id);
  $('room-name').textContent = `# ${names.get(id)}`;
  $('messages').replaceChildren();
  $('body').disabled = false;
  $('send').disabled = false;
  client.subscribe(id, { lastSeq: 0 });
}

function render(message) {
  const id = `m-${message.seq}`;
  let li = document.getElementById(id);
  if (!li) {
    li = document.createElement('li');
    li.id = id;
    li.className = 'message';
    $('messages').append(li);
  }
  li.classList.toggle('deleted', message.deletedAt !== null);
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = message.senderId === me.id ? 'me' : message.senderId.slice(0, 8);
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = message.deletedAt ? '(deleted)' : message.body;
  li.replaceChildren(who, text);
  $('messages').scrollTop = $('messages').scrollHeight;
}

$('login-form').onsubmit = (e) => {
  e.preventDefault();
  void signIn('login');
};
$('signup-button').onclick = () => void signIn('signup');
$('new-channel-form').onsubmit = async (e) => {
  e.preventDefault();
  const name = $('new-channel').value.trim();
  if (!name) return;
  await api('/auth/api/v1/channels', { method: 'POST', body: { name } });
  $('new-channel').value = '';
  await loadChannels();
};
$('send-form').onsubmit = (e) => {
  e.preventDefault();
  const body = $('body').value;
  if (!body || !current) return;
  $('body').value = '';
  // The SDK keeps it until acknowledged, across reconnects.
  client.send(current, body).catch((err) => alert(err.message));
};
