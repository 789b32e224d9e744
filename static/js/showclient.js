/* eventrunner live client: keeps a local copy of the show document in step with the
 * server over socket.io (see docs/PROTOCOL.md) and estimates the server clock.
 * ES2020 on purpose: OBS 28 embeds Chromium 103. */
(function () {
  'use strict';
  var ER = (window.ER = window.ER || {});

  var SYNC_BURST = 5;          // pings at connect; keep the one with the smallest round trip
  var RESYNC_MS = 60000;       // one more ping a minute after
  var SYNC_SAMPLES = 8;        // a sliding window, so a drifting clock is followed
  var ACK_TIMEOUT_MS = 10000;
  var RETRY_MIN_MS = 1000;     // our own reconnect loop for server-side disconnects
  var RETRY_MAX_MS = 10000;
  var PRODUCER_RETRY_MAX_MS = 2000;  // a handful of consoles: no stampede to spread
  var LANE_ATTEMPTS = 3;       // failed live-lane connects before falling back to polling

  function isObject(value) {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  }

  /* RFC 7386 JSON Merge Patch. Returns a new object; never mutates its inputs, so
   * renderers may compare old and new sub-objects by reference. */
  function mergePatch(target, patch) {
    if (!isObject(patch)) return patch;
    var result = {};
    var base = isObject(target) ? target : {};
    Object.keys(base).forEach(function (key) { result[key] = base[key]; });
    Object.keys(patch).forEach(function (key) {
      var value = patch[key];
      if (value === null) delete result[key];
      else result[key] = isObject(value) ? mergePatch(result[key], value) : value;
    });
    return result;
  }
  ER.mergePatch = mergePatch;

  /* The document the server embedded in the page (with server_time), or null. */
  function readEmbeddedDoc() {
    var el = document.getElementById('show-doc');
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }
  ER.readEmbeddedDoc = readEmbeddedDoc;

  function withoutServerTime(full) {
    var doc = {};
    Object.keys(full).forEach(function (key) { if (key !== 'server_time') doc[key] = full[key]; });
    return doc;
  }

  function setBodyData(key, value) {
    if (document.body && document.body.dataset[key] !== value) document.body.dataset[key] = value;
  }

  /* connect('/public', onDoc, options) -> client with .doc (the show), .topics, .now(),
   * .command(), .connected. onDoc(doc) runs after every change of the show, including
   * once right away from the embedded doc. options.topics: {name: onTopic(doc)} for the
   * other live topics this page follows (check-ins, posts); each gets its own snapshot
   * on connect and its own versioned patches. */
  /* follow('checkins', onTopic): a part of the page (loaded before the script that
   * connects) asks the page's one connection to follow a topic too, instead of opening
   * a socket of its own. */
  var followers = {};
  ER.follow = function (topic, onTopic) {
    var before = followers[topic];
    followers[topic] = before ? function (doc) { before(doc); onTopic(doc); } : onTopic;
  };

  ER.connect = function (namespace, onDoc, options) {
    options = options || {};
    var handlers = { show: onDoc };
    var wanted = Object.assign({}, followers, options.topics);
    Object.keys(wanted).forEach(function (name) { handlers[name] = wanted[name]; });
    var client = {
      doc: null,
      topics: {},
      connected: false,
      offset: 0,        // server_time - Date.now(), in ms
      rtt: Infinity,    // round trip of the sample the offset comes from
      socket: null,
      now: function () { return Date.now() + client.offset; },
      command: command,
      onConnection: null, // optional callback(connected)
      // onClockChange(fn): fn runs (after the current task) when the clock offset moves.
      onClockChange: function (fn) { clockListeners.push(fn); }
    };
    var clockListeners = [];
    var clockQueued = false;
    function setOffset(offset) {
      if (offset === client.offset) return;
      client.offset = offset;
      if (clockQueued) return;
      clockQueued = true;
      // Not from inside the connection code: let it finish what it was doing first.
      Promise.resolve().then(function () {
        clockQueued = false;
        clockListeners.forEach(function (fn) { try { fn(); } catch (e) { console.error(e); } });
      });
    }
    var samples = [];
    var snapshotPending = {};
    var retryTimer = null;
    var retryAttempts = 0;
    var resyncTimer = null;

    function changed(topic) {
      var doc = client.topics[topic];
      if (topic === 'show') {
        client.doc = doc;
        setBodyData('version', String(doc.version));
      }
      try { handlers[topic](doc); } catch (e) { console.error(e); }
    }

    function replace(topic, full) {
      if (!isObject(full) || typeof full.version !== 'number') return;
      // Without a sync sample yet, server_time is a rough offset (off by one-way latency).
      if (samples.length === 0 && typeof full.server_time === 'number') {
        setOffset(full.server_time - Date.now());
      }
      client.topics[topic] = withoutServerTime(full);
      changed(topic);
    }

    function requestSnapshot(topic) {
      if (snapshotPending[topic] || !client.socket || !client.socket.connected) return;
      snapshotPending[topic] = true;
      client.socket.timeout(ACK_TIMEOUT_MS).emit('snapshot', { topic: topic }, function (err, full) {
        snapshotPending[topic] = false;
        if (err) { requestSnapshot(topic); return; }
        // Acks arrive in order with patches, so this is never older than what we hold,
        // but a version check costs nothing.
        var held = client.topics[topic];
        if (full && (!held || full.version >= held.version)) replace(topic, full);
      });
    }

    /* A patch applies to the version named by `base` (servers before topics sent none:
     * then the one before). A gap in one topic resyncs that topic only. */
    function onPatch(msg) {
      if (!msg || typeof msg.version !== 'number') return;
      var topic = typeof msg.topic === 'string' ? msg.topic : 'show';
      var held = client.topics[topic];
      if (!handlers[topic] || !held) return;
      if (msg.version <= held.version) return;                 // already have it
      var base = typeof msg.base === 'number' ? msg.base : msg.version - 1;
      if (base !== held.version || !isObject(msg.patch)) {
        requestSnapshot(topic);                                // a gap: start over
        return;
      }
      var doc = mergePatch(held, msg.patch);
      doc.version = msg.version;
      client.topics[topic] = doc;
      changed(topic);
    }

    /* Clock offset: offset = server_time - (t + received_at) / 2, from the round trip
     * with the smallest delay among the last few samples. */
    function syncOnce(then) {
      if (!client.socket || !client.socket.connected) return;
      // The round trip on the monotonic clock: a wall-clock step during a sample must
      // not make it look like the best (shortest) one.
      var t = Date.now();
      var sentAt = performance.now();
      client.socket.timeout(ACK_TIMEOUT_MS).emit('sync', { t: t }, function (err, reply) {
        var rtt = performance.now() - sentAt;
        if (!err && reply && reply.t === t && typeof reply.server_time === 'number') {
          samples.push({ rtt: rtt, offset: reply.server_time - (t + rtt / 2) });
          if (samples.length > SYNC_SAMPLES) samples.shift();
          var best = samples.reduce(function (a, b) { return b.rtt < a.rtt ? b : a; });
          setOffset(best.offset);
          client.rtt = best.rtt;
        }
        if (then) then();
      });
    }

    function syncBurst(left) {
      if (left > 0) syncOnce(function () { syncBurst(left - 1); });
    }

    function backoff() {
      var most = namespace === '/producer' ? PRODUCER_RETRY_MAX_MS : RETRY_MAX_MS;
      var base = Math.min(most, RETRY_MIN_MS * Math.pow(2, retryAttempts));
      retryAttempts += 1;
      return base * (0.5 + Math.random());   // jitter so a restart is not a stampede
    }

    /* socket.io gives up after a server-side disconnect or a refused namespace; we don't. */
    function retryLater() {
      if (retryTimer) return;
      retryTimer = setTimeout(function () {
        retryTimer = null;
        if (!client.socket.connected && !client.socket.active) client.socket.connect();
      }, backoff());
    }

    function setConnected(value) {
      client.connected = value;
      setBodyData('connection', value ? 'connected' : 'disconnected');
      if (client.onConnection) client.onConnection(value);
    }

    function command(payload) {
      return new Promise(function (resolve) {
        if (!client.socket || !client.socket.connected) {
          resolve({ ok: false, error: 'not connected to the server' });
          return;
        }
        client.socket.timeout(ACK_TIMEOUT_MS).emit('command', payload, function (err, reply) {
          if (err) resolve({ ok: false, error: 'no answer from the server' });
          else resolve(reply || { ok: false, error: 'empty answer from the server' });
        });
      });
    }

    // 1. Render at once from the document embedded in the page.
    setBodyData('connection', 'disconnected');
    var embedded = readEmbeddedDoc();
    if (embedded) replace('show', embedded);

    // 2. Then go live.
    if (typeof window.io !== 'function') {
      console.error('socket.io client missing');
      return client;
    }
    // Overlays and participants listen on the live lane, the server's lean broadcast
    // path (websocket only). Should websockets be blocked on the way, fall back to the
    // full socket.io endpoint, which can also poll.
    var lane = namespace !== '/producer';
    var laneFailures = 0;
    ER.client = client;   // the page's one client, for the console and for tests
    open();

    function open() {
      var ioOptions = {
        path: lane ? '/live/' : '/socket.io/',
        transports: lane ? ['websocket'] : ['websocket', 'polling'],
        reconnection: true,
        // Spread a crowd out; the few producers' consoles come back at once.
        reconnectionDelay: namespace === '/producer' ? 500 : 1000 + Math.floor(Math.random() * 1000),
        reconnectionDelayMax: namespace === '/producer' ? 2000 : 10000,
        randomizationFactor: 0.5
      };
      var auth = { topics: Object.keys(handlers) };
      Object.keys(options.auth || {}).forEach(function (key) { auth[key] = options.auth[key]; });
      ioOptions.auth = auth;
      var socket = window.io(namespace, ioOptions);
      client.socket = socket;

      socket.on('connect', function () {
        retryAttempts = 0;
        laneFailures = -Infinity;   // the lane works here: never fall back
        setConnected(true);
        syncBurst(SYNC_BURST);
        clearInterval(resyncTimer);
        resyncTimer = setInterval(function () { syncOnce(); }, RESYNC_MS);
      });
      socket.on('disconnect', function (reason) {
        // Keep the last state on screen; only the connection marker changes.
        setConnected(false);
        snapshotPending = {};
        clearInterval(resyncTimer);
        if (reason === 'io server disconnect' || !socket.active) retryLater();
      });
      socket.on('connect_error', function () {
        setConnected(false);
        laneFailures += 1;
        if (lane && laneFailures >= LANE_ATTEMPTS) {
          lane = false;
          socket.off();
          socket.close();
          open();
          return;
        }
        if (!socket.active) retryLater();   // refused by the server: socket.io won't retry
      });
      Object.keys(handlers).forEach(function (topic) {
        socket.on(topic, function (full) { replace(topic, full); });
      });
      socket.on('patch', onPatch);
    }
    return client;
  };

  /* Second-true rendering. A displayed second flips when the server's clock crosses a
   * whole second *relative to the instant it shows*: a countdown to T (rounded up) and
   * elapsed time since S flip at now = T (mod 1000) and now = S (mod 1000), a wall clock
   * at now = 0 (mod 1000), a graphic's `until` at `until`. nextFlip(instant, now) is the
   * first such moment strictly after `now`. */
  var FLIP_LATE_MS = 1;   // wake a hair after the flip, so the new value is computed

  function nextFlip(instant, now) {
    var ahead = (instant - now) % 1000;
    if (ahead <= 0) ahead += 1000;
    return now + ahead;
  }
  ER.nextFlip = nextFlip;

  /* The earliest flip after `now` of any of `instants` (non-numbers are skipped), or null. */
  function nearestFlip(instants, now) {
    var best = Infinity;
    (instants || []).forEach(function (instant) {
      if (typeof instant === 'number' && isFinite(instant)) best = Math.min(best, nextFlip(instant, now));
    });
    return best === Infinity ? null : best;
  }
  ER.nearestFlip = nearestFlip;

  /* tick(render, client) -> {render(), stop()}. render(shownAgain) draws the page from
   * absolute state at client.now() and returns the instants it shows (epoch ms on the
   * server's clock, as above). One timer is set for the nearest flip and set again after
   * every render: call ticker.render() after every document change; a new clock offset
   * re-renders by itself. Hidden pages and OBS sources are throttled, so render(true)
   * also runs whenever the page or source is shown again. */
  ER.tick = function (render, client) {
    var now = client && typeof client.now === 'function'
      ? function () { return client.now(); }
      : function () { return Date.now(); };
    var timer = null;
    var stopped = false;

    function draw(shownAgain) {
      if (stopped) return;
      // The next flip is the first one after the moment the render began: one that
      // comes while it runs is drawn again rather than skipped for a whole second.
      var before = now();
      var instants = null;
      try {
        instants = render(!!shownAgain);
      } catch (e) {
        console.error(e);
      }
      // A renderer that says nothing gets a wall clock's seconds.
      arm(Array.isArray(instants) ? instants : [0], before);
    }

    function arm(instants, since) {
      clearTimeout(timer);
      timer = null;
      var flip = nearestFlip(instants, since);
      // Woken early (the timer, or a clock estimate that moved)? This is the same flip
      // again, a few ms away: the render above was harmless and this one will be right.
      if (flip !== null) timer = setTimeout(draw, Math.max(0, flip - now()) + FLIP_LATE_MS);
    }

    if (client && client.onClockChange) client.onClockChange(function () { draw(false); });
    document.addEventListener('visibilitychange', function () {
      if (!document.hidden) draw(true);
    });
    window.addEventListener('obsSourceVisibleChanged', function (event) {
      var detail = event.detail;
      var visible = detail && typeof detail === 'object' ? detail.visible : detail;
      if (visible !== false) draw(true);
    });
    return {
      render: function (shownAgain) { draw(shownAgain); },
      stop: function () { stopped = true; clearTimeout(timer); }
    };
  };

  /* How many check-ins a `checkins` document's feed holds at most (FEED_SIZE in
   * eventrunner/checkins/views.py; tests/test_checkin_views.py holds them together). */
  ER.CHECKIN_FEED_SIZE = 30;

  /* The approved actions of a `checkins` document as a list, each with `live` (true
   * while it has checked in and not ended) and `people` (its latest headcount then):
   * the document keeps them apart, keyed by id, so a check-in patches one number. */
  ER.actionsOf = function (doc) {
    var byId = doc && doc.actions && typeof doc.actions === 'object' ? doc.actions : {};
    var live = doc && doc.live && typeof doc.live === 'object' ? doc.live : {};
    return Object.keys(byId).map(function (id) {
      var action = Object.assign({}, byId[id], { id: id, live: typeof live[id] === 'number' });
      if (action.live) action.people = live[id];
      return action;
    });
  };

  /* Where the viewer's Mastodon account lives, for share links: "https://mastodon.online/",
   * "@me@mas.to" or "mas.to:8443" -> "mastodon.online", "mas.to", "mas.to:8443"; anything
   * else -> null (the name goes straight into a link's address). The sample posts and the
   * share panel keep one choice under MASTODON_KEY. */
  ER.MASTODON_KEY = 'eventrunner.mastodon';
  ER.mastodonHost = function (input) {
    var text = String(input || '').trim().toLowerCase();
    text = text.replace(/^https?:\/\//, '').replace(/^@?[^@\/]+@/, '').split('/')[0];
    if (text.length > 253) return null;
    return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+(:\d{1,5})?$/.test(text) ? text : null;
  };

  /* "Rally", "Vigil"... for an action's type (ACTION_TYPES in eventrunner/checkins/forms.py),
   * in the page's language; an unknown type as it came, as text. */
  ER.actionType = function (type) {
    var labels = {
      rally: ER.t('Rally'), vigil: ER.t('Vigil'), 'press conference': ER.t('Press conference'),
      caravan: ER.t('Caravan'), 'car caravan': ER.t('Car caravan'), other: ER.t('Other')
    };
    return Object.prototype.hasOwnProperty.call(labels, type) ? labels[type] : String(type || '');
  };

  /* List rows kept by key (`build(item)` gives [key, signature, make]), rebuilt only when
   * what they show changed, so a focused button keeps its focus and a row does not move
   * under the pointer; rows that left go first, so the ones that stay are not moved
   * (moving the focused one would drop its focus). */
  ER.keyedRows = function (list, items, build) {
    var rowsByKey = {};
    Array.prototype.forEach.call(list.children, function (row) { rowsByKey[row.dataset.key] = row; });
    var built = items.map(function (item) { return build(item); });   // [key, signature, make]
    var wanted = {};
    built.forEach(function (b) { wanted[b[0]] = b; });
    Object.keys(rowsByKey).forEach(function (key) {
      var row = rowsByKey[key];
      if (!wanted[key] || row.dataset.signature !== wanted[key][1]) {
        var hadFocus = row.contains(document.activeElement);
        row.remove();
        delete rowsByKey[key];
        if (hadFocus && wanted[key]) wanted[key].refocus = true;
      }
    });
    built.forEach(function (b, i) {
      var row = rowsByKey[b[0]];
      if (!row) {
        row = b[2]();
        row.dataset.key = b[0];
        row.dataset.signature = b[1];
      }
      if (list.children[i] !== row) list.insertBefore(row, list.children[i] || null);
      if (b.refocus) { var control = row.querySelector('button'); if (control) control.focus(); }
    });
  };

  /* POST JSON to the server's API with this page's session; resolves (never rejects) to
   * {ok, status, answer}: the answer's JSON, or {error} when there is none. */
  ER.postJson = function (path, body) {
    return fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().then(function (answer) {
        return { ok: response.ok, status: response.status, answer: answer };
      }, function () { return { ok: false, status: response.status, answer: {} }; });
    }, function () { return { ok: false, status: 0, answer: { error: 'the server cannot be reached' } }; });
  };

  /* Set text only when it differs: keeps the DOM (and screen readers) quiet. */
  ER.setText = function (el, text) {
    if (el && el.textContent !== text) el.textContent = text;
  };

  /* Builds an element: h('a', {class: 'x', href: u}, [children]). Strings become text. */
  ER.h = function (tag, attrs, children) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === undefined || value === null || value === false) return;
        if (key === 'text') el.textContent = value;
        else if (key === 'dataset') Object.keys(value).forEach(function (k) { el.dataset[k] = value[k]; });
        else el.setAttribute(key, value === true ? '' : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      el.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return el;
  };

  /* Only http(s) and mailto links reach an href. */
  ER.safeUrl = function (url) {
    return typeof url === 'string' && /^(https?:|mailto:)/i.test(url.trim()) ? url.trim() : null;
  };

  /* Copy text to the clipboard; falls back to a hidden textarea outside secure contexts. */
  ER.copyText = function (text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, fallback);
    }
    return Promise.resolve(fallback());
    function fallback() {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      area.remove();
      return ok;
    }
  };

  /* JSON with sorted keys, to compare documents by content: the embedded copy (Jinja's
   * tojson sorts keys) and the socket's copy differ in key order only. */
  ER.stableKey = function stableKey(value) {
    if (Array.isArray(value)) return '[' + value.map(stableKey).join(',') + ']';
    if (value && typeof value === 'object') {
      return '{' + Object.keys(value).sort().map(function (k) {
        return JSON.stringify(k) + ':' + stableKey(value[k]);
      }).join(',') + '}';
    }
    return JSON.stringify(value);
  };

  ER.storage = {
    get: function (key) { try { return window.localStorage.getItem(key); } catch (e) { return null; } },
    set: function (key, value) { try { window.localStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  };
})();
