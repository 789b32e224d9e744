/* Shared runtime of the OBS overlays: URL options, the page's one /overlay connection, a
 * render loop that works from absolute state and redraws on the server clock's second
 * flips, graphics that animate in and out without ever replaying on reload or reconnect,
 * who steps aside for whom, and text that fits its box. Each graphic's own script
 * (static/js/overlays/) calls ER.overlay.start(render); the program overlay loads them all
 * into one page, where they share the connection and the render loop. */
(function () {
  'use strict';
  var ER = (window.ER = window.ER || {});
  var OUT_MS = 450;   // keep in step with the transition time in overlay.css
  // ?font= takes one of these families (bundled with Windows or macOS, or often installed
  // with OBS setups); one the machine lacks falls back to overlay.css's --font-stack.
  var FONTS = ['Inter', 'Roboto', 'Open Sans', 'Lato', 'Montserrat', 'Source Sans Pro', 'Noto Sans',
    'Segoe UI', 'Arial', 'Helvetica', 'Verdana', 'Georgia'];

  /* Who steps aside for whom (docs/OVERLAYS.md, "Slots"). The canvas has five slots that
   * never overlap (overlay.css :root); each shows one thing at a time. What producers take
   * (a cue, the spotlight) outranks the all-day graphic of its slot, which steps aside
   * while it is on air and comes back after it. */
  var YIELDS = {
    'checkin-map': ['spotlight'],
    'post-counter': ['stat-card', 'quote-card'],
    'top-post': ['stat-card', 'quote-card'],
    'up-next': ['lower-third'],
    'checkin-ticker': ['cta']
  };
  var GRAPHIC_OF_KIND = { lower_third: 'lower-third', stat: 'stat-card', quote: 'quote-card', cta: 'cta' };

  // The composed scene keeps every graphic in its slot: the options that move one out of it
  // (?align=) or keep one up over a card (?cards=stay) are for single sources.
  var composed = document.body.dataset.overlay === 'program';

  function readOptions() {
    var params = new URLSearchParams(window.location.search);
    var scale = parseFloat(params.get('scale'));
    var align = params.get('align');
    var accent = params.get('accent');
    var font = (params.get('font') || '').toLowerCase();
    return {
      accent: accent && /^[0-9a-f]{3}([0-9a-f]{3})?$/i.test(accent) ? '#' + accent : null,
      font: FONTS.filter(function (name) { return name.toLowerCase() === font; })[0] || null,
      preview: params.get('preview') === '1' || params.get('preview') === 'true',
      scale: isFinite(scale) && scale > 0 && scale <= 4 ? scale : 1,
      align: !composed && (align === 'right' || align === 'left' || align === 'center') ? align : null,
      cards: !composed && params.get('cards') === 'stay' ? 'stay' : null,
      params: params
    };
  }

  var options = readOptions();

  /* A graphic taking its leave asks for a draw when it is gone (performance.now() time),
   * so the next one can come on: renders otherwise happen only on changes and flips. */
  var redrawAt = 0;
  function redrawBy(at) {
    if (redrawAt <= performance.now() || at < redrawAt) redrawAt = at;
  }

  function applyOptions() {
    var body = document.body;
    if (options.preview) body.classList.add('is-preview');
    if (options.align) body.dataset.align = options.align;
    if (options.accent) body.style.setProperty('--accent', options.accent);
    if (options.font) body.style.setProperty('--font', '"' + options.font + '", var(--font-stack)');
    if (options.scale !== 1) {
      // transform, not zoom: keeps the 1920x1080 layout and scales it as one picture.
      document.getElementById('canvas').style.transform = 'scale(' + options.scale + ')';
    }
  }

  /* Whether graphic `name` steps aside now: one it yields to is on air, among the show's
   * graphics in `d` and the names in `others` (what a topic puts on air: the spotlight). */
  function yields(name, d, others) {
    var onAir = (others || []).slice();
    ER.program.SLOTS.forEach(function (slot) {
      var on = d && d.graphics[slot];
      if (on) onAir.push(GRAPHIC_OF_KIND[on.cue.kind]);
    });
    return (YIELDS[name] || []).some(function (over) { return onAir.indexOf(over) >= 0; });
  }

  /* When the show's graphics come off by themselves: what steps aside for them comes back. */
  function untils(d) {
    return ER.program.SLOTS.map(function (slot) { return d.graphics[slot] && d.graphics[slot].until; });
  }

  /* Text that fits its box. The element (data-fit) gets the largest whole font size, from
   * the one overlay.css gives it down to its --fit-min, at which the text takes at most
   * --fit-lines lines and nothing sticks out sideways; if none does (or it has no
   * --fit-lines), the largest at which it takes no more lines than its max-height holds.
   * Words are never broken for that; if it does not fit at the floor, they may be, and the
   * last line that fits ends in an ellipsis (data-fit="clamped"). Lines are counted from
   * the height of its line boxes, which a font's tall glyphs do not change. */
  var fitted = new Map();   // element -> its text and width when it was last fitted

  function fit(el) {
    var style = el.style;
    var css = getComputedStyle(el);   // live: it follows the changes below
    style.fontSize = '';
    style.maxHeight = '';
    style.webkitLineClamp = '';
    el.dataset.fit = '';
    var max = parseFloat(css.fontSize);
    var min = Math.min(max, parseFloat(css.getPropertyValue('--fit-min')) || max);
    var lines = parseInt(css.getPropertyValue('--fit-lines'), 10) || 0;
    var height = parseFloat(css.maxHeight);
    var limit = lines;                 // the lines it may take; 0: what its max-height holds
    style.maxHeight = 'none';          // measured at its full height while it is fitted
    function allowed() {
      if (limit > 0) return limit;
      return isFinite(height) ? Math.max(1, Math.floor(height / parseFloat(css.lineHeight))) : 1;
    }
    function fits(size) {
      style.fontSize = size + 'px';
      return el.scrollWidth <= el.clientWidth && el.clientHeight <= allowed() * parseFloat(css.lineHeight) + 1;
    }
    function largest() {               // the largest whole size that fits, or null
      if (fits(max)) return max;
      if (!fits(min)) return null;
      var low = min;                   // fits
      var high = max;                  // does not
      while (high - low > 1) {
        var mid = Math.floor((low + high) / 2);
        if (fits(mid)) low = mid; else high = mid;
      }
      return low;
    }
    var size = largest();
    if (size === null && lines > 0 && isFinite(height)) {
      limit = 0;
      size = largest();
    }
    if (size === null) {
      el.dataset.fit = 'clamped';
      size = largest();
    }
    style.fontSize = (size === null ? min : size) + 'px';
    if (size === null) style.webkitLineClamp = String(allowed());
    style.maxHeight = '';
  }

  /* Sets the text of a data-fit element and fits it: again only when the text or the room
   * it has (what else is in its graphic) changed since. */
  function fitText(el, text) {
    if (fitted.get(el) === text + '\n' + el.clientWidth) return;
    el.textContent = text;
    if (text) fit(el);
    fitted.set(el, text + '\n' + el.clientWidth);
  }

  function refitAll() {
    fitted.forEach(function (was, el) {
      if (el.textContent) fit(el);
      fitted.set(el, el.textContent + '\n' + el.clientWidth);
    });
  }

  /* One graphic element with data-visible / data-<attr>. update(key, item) shows what
   * `key` names (null: nothing). The first update after load, and any update marked
   * `instant`, jumps straight to the state without a transition; the same key twice
   * changes nothing, so a snapshot or a reconnect never replays the entrance. */
  var graphics = {};   // data-graphic name -> Graphic, for the program overlay's hand-overs

  function Graphic(el, fill, attr) {
    this.el = el;
    this.fill = fill;
    this.attr = attr || 'cue';
    this.shown = null;
    this.visible = false;
    this.leavingUntil = 0;
    this.settled = false;
    this.after = [];   // graphics that must be gone before this one comes on (program.js)
    el.dataset.visible = 'false';
    graphics[el.dataset.graphic] = this;
  }

  Graphic.prototype.setVisible = function (visible) {
    this.visible = visible;
    this.el.dataset.visible = visible ? 'true' : 'false';
    this.el.setAttribute('aria-hidden', visible ? 'false' : 'true');
  };

  Graphic.prototype.put = function (key, item) {
    this.shown = key;
    if (key !== null) {
      this.el.dataset[this.attr] = key;
      this.fill(this.el, item);
    }
  };

  /* When the graphics in `after` will all be off screen (performance.now() time). One still
   * up is asked to leave in this same draw, or soon: look again then. On a busy machine an
   * exit can end later than planned: until its transition has, look again in a moment. */
  Graphic.prototype.clearAt = function () {
    var now = performance.now();
    return this.after.reduce(function (at, other) {
      if (other.visible) return Math.max(at, now + OUT_MS);
      return Math.max(at, other.el.getAnimations().length > 0 ? now + 50 : other.leavingUntil);
    }, 0);
  };

  Graphic.prototype.update = function (key, item, instant) {
    var el = this.el;
    if (!this.settled || instant) {
      this.settled = true;
      el.classList.add('instant');
      if (key !== null) this.put(key, item); else this.shown = null;
      this.setVisible(key !== null);
      // Re-enable transitions once this state has been painted.
      requestAnimationFrame(function () {
        requestAnimationFrame(function () { el.classList.remove('instant'); });
      });
      return;
    }
    if (key === this.shown) {
      if (key !== null) this.fill(el, item);   // live values (countdowns) keep ticking
      if ((key !== null) !== this.visible) this.setVisible(key !== null);
      return;
    }
    if (this.visible) {                          // something else is up: take it off first
      this.setVisible(false);
      this.leavingUntil = performance.now() + OUT_MS;
      redrawBy(this.leavingUntil);
      return;
    }
    var wait = Math.max(this.leavingUntil, key === null ? 0 : this.clearAt());
    if (performance.now() < wait) {
      redrawBy(wait);
      return;
    }
    this.put(key, item);
    if (key !== null) {
      void el.offsetWidth;                       // start the entrance from the hidden state
      this.setVisible(true);
    }
  };

  /* start(render): render(doc, derived, now, instant) runs from the embedded document once
   * the page's scripts have all loaded, then on every change, when a displayed second
   * flips, and instantly when OBS shows the source. It returns the instants it shows (see
   * ER.tick), e.g. [d.target] for a countdown; anything else means those of
   * ER.program.flips(derived). Every graphic of a page shares one connection: it opens once
   * all have asked for their topics (ER.follow), which a connection names when it opens. */
  var renders = [];
  var client = null;
  var ticker = null;
  var connectionListeners = [];

  function draw(instant) {
    var doc = client.doc;
    if (!doc) return [];
    var now = client.now();
    var d = ER.program.derive(doc, now);
    var instants = [];
    renders.forEach(function (render) {
      var shown = null;
      try {
        shown = render(doc, d, now, !!instant);
      } catch (e) { console.error(e); }
      instants = instants.concat(Array.isArray(shown) ? shown : ER.program.flips(d));
    });
    var wait = redrawAt - performance.now();
    if (wait > 0) instants.push(now + wait);   // within a second: nextFlip lands on it
    return instants;
  }

  function run() {
    applyOptions();
    client = ER.connect('/overlay', function () { if (ticker) ticker.render(false); });
    client.onConnection = function (connected) {
      connectionListeners.forEach(function (listener) { listener(connected); });
    };
    // Hidden browser sources are throttled: when one comes back (the ticker listens for
    // that), show the present state at once, without animating what has long been on air.
    ticker = ER.tick(draw, client);
    ticker.render(false);
    window.addEventListener('obsSourceActiveChanged', function () { ticker.render(true); });
    // Sizes were measured in whatever font was there: measure again in the one that came.
    document.fonts.addEventListener('loadingdone', refitAll);
    document.fonts.ready.then(refitAll);
  }

  function start(render) {
    renders.push(render);
    if (renders.length > 1) return;
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run);
    else run();
  }

  function shortUrl(url) {
    return String(url || '').replace(/^https?:\/\//i, '').replace(/^www\./i, '').replace(/\/$/, '');
  }

  ER.overlay = {
    options: options,
    start: start,
    now: function () { return client ? client.now() : Date.now(); },
    // onConnection(fn): fn(connected) when the page's connection goes up or down.
    onConnection: function (listener) { connectionListeners.push(listener); },
    Graphic: Graphic,
    graphics: graphics,
    YIELDS: YIELDS,
    yields: yields,
    untils: untils,
    fitText: fitText,
    shortUrl: shortUrl,
    field: function (root, name) { return root.querySelector('[data-field="' + name + '"]'); }
  };
})();
