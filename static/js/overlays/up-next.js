/* Up next: the segment that comes next and when, in the event's time zone. While a
 * segment is live that is the following one; before and between segments, the
 * upcoming one itself. */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;
  var P = ER.program;

  var graphic = new O.Graphic(document.querySelector('.up-next'), function (root, item) {
    ER.setText(O.field(root, 'title'), item.segment.title);
    ER.setText(O.field(root, 'when'), typeof item.start === 'number'
      ? P.formatTime(item.start, item.zone, null, { zoneName: true }) : '');
  }, 'segment');

  O.start(function (doc, d, now, instant) {
    var segment = d.phase === 'live' ? d.next : d.phase === 'ended' ? null : d.segment;
    var item = segment && {
      segment: segment,
      start: P.segmentTiming(doc, segment.id).planned_start,
      zone: doc.event.timezone
    };
    graphic.update(segment ? segment.id : null, item, instant);
  });
})();
