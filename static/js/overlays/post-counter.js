/* Post counter: the hashtag post count of the `posts` topic on a plate on the right, below
 * the clock (?align=left: the left): the hashtag, the big total, the rate ("340 a
 * minute"), a sparkline of the last 30 minutes and, when producers set a goal, a bar with
 * "12,345 of 20,000".
 *
 * The total counts up (ease-out, at most 1.5 s) from the number on screen to each new one.
 * It never replays: the first document after a load, the first after a reconnect, and the
 * state when OBS shows the source again are put up at once, without counting; so is every
 * change while the plate is off screen, and every change with prefers-reduced-motion.
 *
 * Shown once the topic's first document has come and a count exists: a total above 0, or
 * a goal. The number on air never goes below 0 (producers' adjustments may take more off
 * than was counted). It steps aside while a stat or quote card is on air (the `card`
 * slot), which takes the same part of the screen, and comes back after it; ?cards=stay
 * keeps it up (for scenes without the card overlays).
 * Everything in it is set as text. */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;
  var SVG = 'http://www.w3.org/2000/svg';
  var TWEEN_MAX_MS = 1500;
  var TWEEN_MIN_MS = 400;
  var TWEEN_MS_PER_POST = 25;  // small steps are quick, big jumps take up to the cap
  var RETRY_MS = 500;          // a little over the exit in overlay.css
  var SPARK_W = 200;           // the <svg>'s viewBox (its size in overlay.css)
  var SPARK_H = 56;
  var SPARK_PAD = 4;           // room for the stroke and the dot at the top
  var number = new Intl.NumberFormat(ER.lang);
  var decimal = new Intl.NumberFormat(ER.lang, { maximumFractionDigits: 1 });
  var reducedMotion = window.matchMedia ? window.matchMedia('(prefers-reduced-motion: reduce)') : null;
  var staysUnderCards = O.options.cards === 'stay';

  var root = document.querySelector('.post-counter');
  var totalEl = O.field(root, 'total');
  var unitEl = O.field(root, 'unit');
  var goalEl = O.field(root, 'goal');
  var barEl = O.field(root, 'goal-bar');
  var spark = O.field(root, 'spark');
  var area = document.createElementNS(SVG, 'polygon');
  var line = document.createElementNS(SVG, 'polyline');
  var tailLine = document.createElementNS(SVG, 'polyline');
  var dot = document.createElementNS(SVG, 'circle');
  area.setAttribute('class', 'spark-area');
  line.setAttribute('class', 'spark-line');
  tailLine.setAttribute('class', 'spark-now');
  dot.setAttribute('class', 'spark-dot');
  dot.setAttribute('r', '3.5');
  spark.appendChild(area);
  spark.appendChild(line);
  spark.appendChild(tailLine);
  spark.appendChild(dot);

  var doc = null;          // the topic's document, once it has come
  var cardOn = false;      // a stat or quote card is on air
  var reconnected = false; // the connection dropped: its next document is put up at once

  // The total on screen: `shown` now, counting from `from` to `to` between start and end
  // (performance.now() times); shown === null until the first document.
  var tween = { shown: null, from: 0, to: 0, start: 0, end: 0, frame: 0 };

  function finite(n) {
    return typeof n === 'number' && isFinite(n) ? n : 0;
  }

  function totalOf(topic) {
    return Math.max(0, Math.round(finite(topic.total)));
  }

  function goalOf(topic) {
    return typeof topic.goal === 'number' && isFinite(topic.goal) && topic.goal > 0 ? topic.goal : null;
  }

  /* The number (and the goal bar) as they read at `value`. */
  function paint(value) {
    var n = Math.round(value);
    var text = number.format(n);
    ER.setText(totalEl, text);
    // A million and more gets smaller type, so the figure keeps to the plate.
    var long = text.length > 7 ? 'true' : 'false';
    if (root.dataset.long !== long) root.dataset.long = long;
    ER.setText(unitEl, ER.nt('post', 'posts', n));
    var goal = doc ? goalOf(doc) : null;
    if (goal !== null) {
      ER.setText(goalEl, ER.t('{n} of {goal}', { n: number.format(n), goal: number.format(goal) }));
      barEl.style.width = (Math.min(1, n / goal) * 100).toFixed(2) + '%';
      root.dataset.reached = n >= goal ? 'true' : 'false';
    }
  }

  function easeOut(t) {
    return 1 - Math.pow(1 - t, 3);
  }

  function step(time) {
    tween.frame = 0;
    // A frame's time may be a little before the tween began (it is when the frame started).
    var t = tween.end > tween.start ? Math.max(0, Math.min(1, (time - tween.start) / (tween.end - tween.start))) : 1;
    tween.shown = tween.from + (tween.to - tween.from) * easeOut(t);
    if (t >= 1) tween.shown = tween.to;
    paint(tween.shown);
    if (tween.shown !== tween.to) tween.frame = requestAnimationFrame(step);
  }

  /* Show `value`: at once when `jump`, else counting from the number on screen. */
  function countTo(value, jump) {
    if (!jump && tween.frame !== 0 && value === tween.to) return;   // already counting there
    if (tween.frame) cancelAnimationFrame(tween.frame);
    tween.frame = 0;
    if (jump || tween.shown === null || tween.shown === value) {
      tween.shown = tween.from = tween.to = value;
      paint(value);
      return;
    }
    var now = performance.now();
    var ms = Math.min(TWEEN_MAX_MS, Math.max(TWEEN_MIN_MS, TWEEN_MS_PER_POST * Math.abs(value - tween.shown)));
    tween.from = tween.shown;
    tween.to = value;
    tween.start = now;
    tween.end = now + ms;
    tween.frame = requestAnimationFrame(step);
  }

  /* The last 30 minutes as a line over a soft area. The last minute is still being
   * counted: its stretch is drawn dim (a partial minute is no drop), ending in a dot. */
  function drawSpark(counts) {
    var values = Array.isArray(counts) ? counts.map(function (c) { return Math.max(0, finite(c)); }) : [];
    if (values.length < 3) {
      spark.dataset.empty = 'true';
      return;
    }
    spark.dataset.empty = 'false';
    var most = Math.max.apply(null, values.concat([1]));
    var dx = SPARK_W / (values.length - 1);
    var points = values.map(function (c, i) {
      var y = SPARK_H - SPARK_PAD - (c / most) * (SPARK_H - 2 * SPARK_PAD);
      return (i * dx).toFixed(1) + ',' + y.toFixed(1);
    });
    var whole = points.slice(0, -1).join(' ');
    if (line.getAttribute('points') !== whole) {
      line.setAttribute('points', whole);
      area.setAttribute('points', '0,' + SPARK_H + ' ' + whole + ' ' + ((values.length - 2) * dx).toFixed(1) + ',' + SPARK_H);
    }
    var tail = points.slice(-2).join(' ');
    if (tailLine.getAttribute('points') !== tail) {
      tailLine.setAttribute('points', tail);
      var last = points[points.length - 1].split(',');
      dot.setAttribute('cx', last[0]);
      dot.setAttribute('cy', last[1]);
    }
  }

  function rateText(rate) {
    var r = finite(rate);
    if (r <= 0) return '';
    return (r < 10 ? decimal.format(r) : number.format(Math.round(r))) + ' a minute';
  }

  /* Everything but the total, which countTo() paints. */
  function fill(el, topic) {
    ER.setText(O.field(el, 'hashtag'), String(topic.hashtag || ''));
    ER.setText(O.field(el, 'rate'), rateText(topic.rate));
    var goal = goalOf(topic);
    el.dataset.goal = goal === null ? 'false' : 'true';
    if (goal === null) {
      ER.setText(goalEl, '');
      el.dataset.reached = 'false';
    }
    drawSpark(topic.spark && topic.spark.counts);
  }

  var graphic = new O.Graphic(root, fill, 'shows');

  /* `fresh`: a document that must not count up from what was on screen (the first after
   * a reconnect). */
  function draw(instant, fresh) {
    // Until the topic's first document nothing is known: that one is put up without an
    // entrance, like every overlay after a reload.
    if (!doc) return;
    var counted = totalOf(doc) > 0 || goalOf(doc) !== null;
    var key = counted && (staysUnderCards || !cardOn) ? 'count' : null;
    var wasOn = graphic.visible;
    graphic.update(key, doc, instant);
    // Counting is for a plate that was on screen and stays there; anything else jumps.
    var jump = instant || fresh || !wasOn || !graphic.visible ||
      (reducedMotion !== null && reducedMotion.matches);
    countTo(totalOf(doc), jump);
    // Still on its way out a moment ago: come on once it is gone.
    if (key !== null && !graphic.visible) setTimeout(function () { draw(false, false); }, RETRY_MS);
  }

  // overlay.js opens the one connection: it follows `posts` too.
  ER.follow('posts', function (topic) {
    var fresh = reconnected;
    reconnected = false;
    doc = topic;
    draw(false, fresh);
  });
  O.start(function (show, d, now, instant) {
    cardOn = O.yields('post-counter', d);
    draw(instant, false);
    return O.untils(d);   // when the card comes off by itself, come back
  });
  O.onConnection(function (connected) {
    if (!connected) reconnected = true;
  });
})();
