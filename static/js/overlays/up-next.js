/* Up next: the segment that comes next and when, in the event's time zone. While a
 * segment is live that is the following one; before and between segments, the
 * upcoming one itself. A planned time that has gone by is never shown as if it were
 * still ahead: it reads "After this segment" (or "Starting soon"). It steps aside while a
 * lower third is on air: they share the lower band. */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;
  var P = ER.program;

  function when(item) {
    if (typeof item.start !== 'number') return '';
    if (item.start > item.now && !item.waiting) {
      return P.formatTime(item.start, item.zone, null, { zoneName: true });
    }
    return item.live ? ER.t('After this segment') : ER.t('Starting soon');
  }

  var graphic = new O.Graphic(document.querySelector('.up-next'), function (root, item) {
    O.fitText(O.field(root, 'title'), ER.tx(item.segment, 'title') || '');
    ER.setText(O.field(root, 'when'), when(item));
  }, 'segment');

  O.start(function (doc, d, now, instant) {
    var live = d.phase === 'live';
    var segment = live ? d.next : d.phase === 'ended' ? null : d.segment;
    var start = segment ? P.segmentTiming(doc, segment.id).planned_start : undefined;
    // It steps aside for a lower third, which takes the lower band.
    var key = segment && !O.yields('up-next', d) ? segment.id : null;
    var item = segment && {
      segment: segment,
      start: start,
      zone: doc.event.timezone,
      now: now,
      live: live,
      waiting: !live && d.held   // held before it starts: it starts when the producer says
    };
    graphic.update(key, item, instant);
    return [start].concat(O.untils(d));   // the moment the planned time goes by
  });
})();
