/* Stat card: the card slot when it holds a stat cue (figure, label, as of, source), in the
 * side slot under the clock. A long figure gets smaller type, then wraps. */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;
  var P = ER.program;

  var graphic = new O.Graphic(document.querySelector('.stat-card'), function (root, cue) {
    O.fitText(O.field(root, 'figure'), ER.tx(cue, 'figure') || '');
    O.fitText(O.field(root, 'label'), ER.tx(cue, 'label') || '');
    ER.setText(O.field(root, 'as-of'), cue.as_of ? ER.t('as of {date}', { date: P.formatDate(cue.as_of) }) : '');
    ER.setText(O.field(root, 'source'), cue.source ? ER.t('Source: {source}', { source: ER.tx(cue, 'source') }) : '');
  });

  O.start(function (doc, d, now, instant) {
    var on = d.graphics.card;
    var cue = on && on.cue.kind === 'stat' ? on.cue : null;
    graphic.update(cue ? cue.id : null, cue, instant);
    return [on && on.until];   // it comes off by itself then
  });
})();
