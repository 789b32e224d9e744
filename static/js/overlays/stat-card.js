/* Stat card: the card slot when it holds a stat cue (figure, label, as of, source). */
(function () {
  'use strict';
  var ER = window.ER;
  var O = ER.overlay;
  var P = ER.program;

  var graphic = new O.Graphic(document.querySelector('.stat-card'), function (root, cue) {
    ER.setText(O.field(root, 'figure'), cue.figure || '');
    ER.setText(O.field(root, 'label'), cue.label || '');
    ER.setText(O.field(root, 'as-of'), cue.as_of ? 'as of ' + P.formatDate(cue.as_of) : '');
    ER.setText(O.field(root, 'source'), cue.source ? 'Source: ' + cue.source : '');
  });

  O.start(function (doc, d, now, instant) {
    var on = d.graphics.card;
    var cue = on && on.cue.kind === 'stat' ? on.cue : null;
    graphic.update(cue ? cue.id : null, cue, instant);
    return [on && on.until];   // it comes off by itself then
  });
})();
