/* Show clock: the segment on air (or coming up), its countdown and a progress bar. */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;
  var P = ER.program;
  var el = document.querySelector('.clock');

  function label(d) {
    if (d.phase === 'live') return d.held ? 'On hold' : d.overtime ? 'Over time' : 'On air';
    return 'Starts in';
  }

  var clock = new O.Graphic(el, function (root, d) {
    root.dataset.phase = d.phase;
    root.dataset.held = d.held ? 'true' : 'false';
    root.dataset.overtime = d.overtime ? 'true' : 'false';
    ER.setText(O.field(root, 'label'), label(d));
    ER.setText(O.field(root, 'segment-title'), d.segment ? d.segment.title : '');
    ER.setText(O.field(root, 'countdown'), P.formatCountdown(d.countdown));
    O.field(root, 'progress').style.width = ((d.progress || 0) * 100).toFixed(2) + '%';
  }, 'segment');

  O.start(function (doc, d, now, instant) {
    // Nothing to count once the day is over.
    var key = d.segment && d.phase !== 'ended' ? d.segment.id : null;
    clock.update(key, d, instant);
  });
})();
