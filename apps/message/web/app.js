// The chat page: logs in through the auth API (proxied by the message service at /auth), lists and
// joins channels, shows a channel's newest messages and pages back through its history, chats through
// the SDK (live from the newest message shown), edits and deletes one's own messages, reacts, and shows
// connection state, reconnects and the instance serving the WebSocket.
import { applyReaction, ChatClient } from '/sdk/index.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const wsScheme = location.protocol === 'https:' ? 'wss' : 'ws';
// ?ws=url1,url2 lists instances to rotate through; by default the one serving the page.
const wsUrls = params.get('ws') ? params.get('ws').split(',') : [`${wsScheme}://${location.host}/ws`];
// ?pageSize=N: messages per history page (default 50).
const pageSize = Math.min(200, Math.max(1, Number(params.get('pageSize')) || 50));
const REACTION = '👍';

let token = null;
let refreshToken = null;
/** The refresh under way, if any: a refresh token is single use, so two at once would revoke the session. */
let refreshing = null;
let me = null;
let client = null;
let current = null;
/** `before` cursor for the next older page of the open channel (null: nothing older). */
let older = null;
const names = new Map();
/** The open channel's messages shown, by seq, and their reactions: from history reads, then deltas. */
const shown = new Map();
const reactionsBySeq = new Map();

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

function showError(err) {
  $('chat-error').textContent = err.message;
}

async function signIn(kind) {
  const username = $('username').value.trim();
  const password = $('password').value;
  const body =
    kind === 'signup' ? { username, password, email: `${username}@example.test` } : { username, password };
  try {
    const session = await api(`/auth/api/v1/auth/${kind}`, { method: 'POST', body });
    token = session.accessToken;
    refreshToken = session.refreshToken;
    me = session.user;
    $('login').hidden = true;
    $('chat').hidden = false;
    connect();
    await loadChannels();
  } catch (err) {
    $('login-error').textContent = err.message;
  }
}

/** Seconds since the epoch at which the access token expires (its `exp` claim). */
function expiresAt(jwt) {
  const payload = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(atob(payload)).exp;
}

/**
 * The token for the next WebSocket connection (the SDK asks on every connect): refreshed first when it
 * expires within 30 s, so a connection closed with 4001 at expiry comes back with a new one.
 */
async function currentToken() {
  if (!refreshToken || expiresAt(token) * 1000 - Date.now() > 30_000) return token;
  refreshing ??= api('/auth/api/v1/auth/refresh', { method: 'POST', body: { refreshToken } })
    .then((session) => {
      token = session.accessToken;
      refreshToken = session.refreshToken;
    })
    .finally(() => (refreshing = null));
  await refreshing;
  return token;
}

function connect() {
  client = new ChatClient({ urls: wsUrls, token: currentToken });
  client.on('state', (state) => {
    $('state').dataset.state = state;
    $('state').textContent = state;
    $('reconnects').textContent = `reconnects: ${client.reconnects}`;
  });
  client.on('open', (instanceId) => {
    $('instance').dataset.instance = instanceId;
    $('instance').textContent = `instance: ${instanceId}`;
  });
  client.on('message', (event) => {
    if (event.channelId === current) render(event.message);
  });
  client.on('update', (event) => {
    if (event.channelId === current) render(event.message);
  });
  client.on('reaction', (event) => {
    if (event.channelId === current) applyDelta(event);
  });
  // The channel's history was restored or reset: what is shown may be gone; read it again.
  client.on('subscribed', (channelId, _seq, position) => {
    if (channelId === current && position && !position.recovered)
      void openChannel(channelId).catch(showError);
  });
  client.connect();
}

/** My channels (click to open) and the other public ones (with a Join button). */
async function loadChannels() {
  const [mine, visible] = await Promise.all([
    api('/auth/api/v1/me/channels?limit=100'),
    api('/auth/api/v1/channels?limit=100'),
  ]);
  const list = $('channels');
  list.replaceChildren();
  const joined = new Set();
  for (const channel of mine.items) {
    joined.add(channel.id);
    names.set(channel.id, channel.name);
    const li = document.createElement('li');
    li.textContent = `# ${channel.name}`;
    li.dataset.id = channel.id;
    li.classList.toggle('active', channel.id === current);
    li.onclick = () => void openChannel(channel.id).catch(showError);
    list.append(li);
  }
  const others = $('public-channels');
  others.replaceChildren();
  for (const channel of visible.items) {
    if (joined.has(channel.id)) continue;
    const li = document.createElement('li');
    li.dataset.id = channel.id;
    const name = document.createElement('span');
    name.textContent = `# ${channel.name}`;
    const join = document.createElement('button');
    join.className = 'join';
    join.textContent = 'Join';
    join.onclick = async () => {
      try {
        await api(`/auth/api/v1/channels/${channel.id}/join`, { method: 'POST' });
        await loadChannels();
      } catch (err) {
        showError(err);
      }
    };
    li.append(name, join);
    others.append(li);
  }
}

/** Shows the newest page of the channel, then follows it live from there. */
async function openChannel(id) {
  if (current) client.unsubscribe(current);
  current = id;
  for (const li of $('channels').children) li.classList.toggle('active', li.dataset.id === id);
  $('room-name').textContent = `# ${names.get(id)}`;
  $('messages').replaceChildren();
  shown.clear();
  reactionsBySeq.clear();
  // The server replays changes made since `since` (minus a margin), so nothing between this read
  // and the subscription is missed.
  const since = new Date().toISOString();
  const page = await api(`/api/v1/messages?channelId=${encodeURIComponent(id)}&limit=${pageSize}`);
  if (current !== id) return;
  for (const message of page.items) renderRead(message);
  setOlder(page.prevBefore);
  const newest = page.items.length > 0 ? page.items[page.items.length - 1].seq : 0;
  $('body').disabled = false;
  $('send').disabled = false;
  client.subscribe(id, { lastSeq: newest, ...(newest > 0 ? { since } : {}) });
}

function setOlder(cursor) {
  older = cursor;
  $('load-older').hidden = cursor === null;
}

async function loadOlder() {
  if (older === null || !current) return;
  const id = current;
  const page = await api(
    `/api/v1/messages?channelId=${encodeURIComponent(id)}&before=${older}&limit=${pageSize}`,
  );
  if (current !== id) return;
  for (const message of page.items) renderRead(message);
  setOlder(page.prevBefore);
}

/** A message from a history read: its reactions are the current ones. */
function renderRead(message) {
  reactionsBySeq.set(message.seq, message.reactions ?? {});
  render(message);
}

/** A reaction delta (from the live feed, or our own request's answer; applying one twice is harmless). */
function applyDelta(event) {
  reactionsBySeq.set(event.seq, applyReaction(reactionsBySeq.get(event.seq) ?? {}, event));
  const message = shown.get(event.seq);
  if (message) render(message);
}

function actionButton(className, label, onclick) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = className;
  button.textContent = label;
  button.onclick = () => void onclick().catch(showError);
  return button;
}

const messagePath = (message) => `/api/v1/messages/${encodeURIComponent(message.channelId)}/${message.seq}`;

/** Draws a message in seq order; a version older than the one shown is ignored. */
function render(message) {
  const id = `m-${message.seq}`;
  let li = document.getElementById(id);
  if (li && Number(li.dataset.version) > message.version) return;
  if (li?.querySelector('.edit-input')) return; // being edited: the edit's answer redraws it
  if (!li) {
    li = document.createElement('li');
    li.id = id;
    li.className = 'message';
    li.dataset.seq = String(message.seq);
    const after = [...$('messages').children].find((other) => Number(other.dataset.seq) > message.seq);
    $('messages').insertBefore(li, after ?? null);
  }
  li.dataset.version = String(message.version);
  shown.set(message.seq, message);
  const deleted = message.deletedAt !== null;
  li.classList.toggle('deleted', deleted);
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = message.senderId === me.id ? 'me' : message.senderId.slice(0, 8);
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = deleted ? '(deleted)' : message.body;
  const parts = [who, text];
  if (message.editedAt && !deleted) {
    const edited = document.createElement('span');
    edited.className = 'edited';
    edited.textContent = '(edited)';
    parts.push(edited);
  }
  // Message events carry no reactions: they come from history reads and deltas.
  const reacted = deleted ? [] : (reactionsBySeq.get(message.seq)?.[REACTION] ?? []);
  if (reacted.length > 0) {
    const reactions = document.createElement('span');
    reactions.className = 'reactions';
    reactions.textContent = `${REACTION} ${reacted.length}`;
    parts.push(reactions);
  }
  if (!deleted) {
    const mine = reacted.includes(me.id);
    const path = `${messagePath(message)}/reactions/${encodeURIComponent(REACTION)}`;
    parts.push(
      actionButton('react', mine ? `un${REACTION}` : REACTION, async () =>
        applyDelta((await api(path, { method: mine ? 'DELETE' : 'PUT' })).reaction),
      ),
    );
    if (message.senderId === me.id) {
      parts.push(
        actionButton('edit', 'edit', async () => startEdit(li, message)),
        actionButton('delete', 'delete', async () =>
          render((await api(messagePath(message), { method: 'DELETE' })).message),
        ),
      );
    }
  }
  li.replaceChildren(...parts);
  if (!li.nextElementSibling) $('messages').scrollTop = $('messages').scrollHeight;
}

/** Replaces the text with an input: Enter saves the edit, Escape cancels. */
function startEdit(li, message) {
  const input = document.createElement('input');
  input.className = 'edit-input';
  input.value = message.body;
  input.onkeydown = async (e) => {
    if (e.key === 'Escape') {
      input.remove();
      render(message);
    } else if (e.key === 'Enter' && input.value.trim()) {
      e.preventDefault();
      try {
        const answer = await api(messagePath(message), { method: 'PATCH', body: { body: input.value } });
        input.remove();
        render(answer.message);
      } catch (err) {
        showError(err);
      }
    }
  };
  li.querySelector('.text').replaceWith(input);
  input.focus();
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
  try {
    await api('/auth/api/v1/channels', { method: 'POST', body: { name } });
    $('new-channel').value = '';
    await loadChannels();
  } catch (err) {
    showError(err);
  }
};
$('refresh-channels').onclick = () => void loadChannels().catch(showError);
$('load-older').onclick = () => void loadOlder().catch(showError);
$('send-form').onsubmit = (e) => {
  e.preventDefault();
  const body = $('body').value;
  if (!body || !current) return;
  $('body').value = '';
  // The SDK keeps it until acknowledged, across reconnects.
  client.send(current, body).catch(showError);
};
