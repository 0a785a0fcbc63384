// Phone-first tables: each cell is labelled with its column's heading (data-label), so that
// app.css can show a table as one card per row on a narrow screen. Without JavaScript the
// table scrolls inside its own box instead of widening the page.
(function () {
  var tables = document.querySelectorAll('main table');
  for (var t = 0; t < tables.length; t++) {
    var table = tables[t];
    var heads = table.tHead ? table.tHead.rows : [];
    if (!heads.length) { continue; }
    var labels = [];
    var cells = heads[heads.length - 1].cells;
    for (var c = 0; c < cells.length; c++) {
      for (var span = 0; span < (cells[c].colSpan || 1); span++) { labels.push(cells[c].textContent.trim()); }
    }
    for (var b = 0; b < table.tBodies.length; b++) {
      var rows = table.tBodies[b].rows;
      for (var r = 0; r < rows.length; r++) {
        var column = 0;
        for (var k = 0; k < rows[r].cells.length; k++) {
          var cell = rows[r].cells[k];
          if (labels[column] && cell.colSpan === 1 && !cell.hasAttribute('data-label')) { cell.setAttribute('data-label', labels[column]); }
          column += cell.colSpan || 1;
        }
      }
    }
    table.classList.add('cards');
  }
})();
