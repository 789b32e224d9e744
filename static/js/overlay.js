/* Shared runtime of the OBS overlays: URL options, the /overlay connection, a render
 * loop that works from absolute state and redraws on the server clock's second flips, and graphics that animate in and out without
 * ever replaying on reload or reconnect. Each overlay's own script (static/js/overlays/)
 * calls ER.overlay.start(render). */
(function () {
  'use strict';
  var ER = (window.ER = window.ER || {});
  var OUT_MS = 450;   // keep in step with the transition time in overlay.css

  function readOptions() {
    var params = new URLSearchParams(window.location.search);
    var scale = parseFloat(params.get('scale'));
    var align = params.get('align');
    var accent = params.get('accent');
    return {
      accent: accent && /^[0-9a-f]{3}([0-9a-f]{3})?$/i.test(accent) ? '#' + accent : null,
      preview: params.get('preview') === '1' || params.get('preview') === 'true',
      scale: isFinite(scale) && scale > 0 && scale <= 4 ? scale : 1,
      align: align === 'right' || align === 'left' || align === 'center' ? align : null,
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
    if (options.scale !== 1) {
      // transform, not zoom: keeps the 1920x1080 layout and scales it as one picture.
      document.getElementById('canvas').style.transform = 'scale(' + options.scale + ')';
    }
  }

  /* One graphic element with data-visible / data-<attr>. update(key, item) shows what
   * `key` names (null: nothing). The first update after load, and any update marked
   * `instant`, jumps straight to the state without a transition; the same key twice
   * changes nothing, so a snapshot or a reconnect never replays the entrance. */
  function Graphic(el, fill, attr) {
    this.el = el;
    this.fill = fill;
    this.attr = attr || 'cue';
    this.shown = null;
    this.visible = false;
    this.leavingUntil = 0;
    this.settled = false;
    el.dataset.visible = 'false';
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
    if (performance.now() < this.leavingUntil) {
      redrawBy(this.leavingUntil);
      return;
    }
    this.put(key, item);
    if (key !== null) {
      void el.offsetWidth;                       // start the entrance from the hidden state
      this.setVisible(true);
    }
  };

  /* start(render): render(doc, derived, now, instant) runs at once from the embedded
   * document, on every change, when a displayed second flips, and instantly when OBS
   * shows the source. It returns the instants it shows (see ER.tick), e.g. [d.target]
   * for a countdown; anything else means those of ER.program.flips(derived). */
  function start(render) {
    applyOptions();
    var client = null;
    var ticker = null;

    function draw(instant) {
      var doc = client ? client.doc : ER.readEmbeddedDoc();
      if (!doc) return [];
      var now = client ? client.now() : Date.now();
      var d = ER.program.derive(doc, now);
      var shown = null;
      try {
        shown = render(doc, d, now, !!instant);
      } catch (e) { console.error(e); }
      var instants = Array.isArray(shown) ? shown.slice() : ER.program.flips(d);
      var wait = redrawAt - performance.now();
      if (wait > 0) instants.push(now + wait);   // within a second: nextFlip lands on it
      return instants;
    }

    client = ER.connect('/overlay', function () { if (ticker) ticker.render(false); });
    // Hidden browser sources are throttled: when one comes back (the ticker listens for
    // that), show the present state at once, without animating what has long been on air.
    ticker = ER.tick(draw, client);
    ticker.render(false);
    window.addEventListener('obsSourceActiveChanged', function () { ticker.render(true); });
    return client;
  }

  function shortUrl(url) {
    return String(url || '').replace(/^https?:\/\//i, '').replace(/^www\./i, '').replace(/\/$/, '');
  }

  /* A size class from the text's length, so long quotes still fit their card. */
  function lengthClass(text) {
    var n = String(text || '').length;
    return n > 260 ? 'len-long' : n > 140 ? 'len-medium' : 'len-short';
  }

  ER.overlay = {
    options: options,
    start: start,
    Graphic: Graphic,
    shortUrl: shortUrl,
    lengthClass: lengthClass,
    field: function (root, name) { return root.querySelector('[data-field="' + name + '"]'); }
  };
})();
