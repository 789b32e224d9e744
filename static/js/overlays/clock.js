/* Show clock: the segment on air (or coming up), its countdown and a progress bar.
 * Viewers never see a negative clock: a held segment, or one past its planned end, reads
 * "Running late"; a start that waits for the producer reads "Starting soon". */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;
  var P = ER.program;
  var el = document.querySelector('.clock');

  function label(d) {
    if (d.phase === 'live') return ER.t('On air');
    return d.viewerCountdown === null ? ER.t('Up next') : ER.t('Starts in');
  }

  /* The big line: the countdown, or words when no countdown would be true. */
  function reading(d) {
    if (d.viewerCountdown !== null) return P.formatCountdown(d.viewerCountdown);
    return d.phase === 'live' ? ER.t('Running late') : ER.t('Starting soon');
  }

  var clock = new O.Graphic(el, function (root, d) {
    var words = d.viewerCountdown === null;
    root.dataset.phase = d.phase;
    root.dataset.held = d.held ? 'true' : 'false';
    root.dataset.late = d.late ? 'true' : 'false';
    root.dataset.reading = words ? 'words' : 'countdown';
    ER.setText(O.field(root, 'label'), label(d));
    O.fitText(O.field(root, 'segment-title'), d.segment ? ER.tx(d.segment, 'title') : '');
    ER.setText(O.field(root, 'countdown'), reading(d));
    O.field(root, 'progress').style.width = ((d.progress || 0) * 100).toFixed(2) + '%';
  }, 'segment');

  O.start(function (doc, d, now, instant) {
    // Nothing to count once the day is over.
    var key = d.segment && d.phase !== 'ended' ? d.segment.id : null;
    clock.update(key, d, instant);
    // The countdown flips on its target's second; so does the late/over-time switch
    // (a second past the planned end), and the progress bar moves along with it.
    return [d.target];
  });
})();
