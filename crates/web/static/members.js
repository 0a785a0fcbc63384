// 添加成员 / 删除 on the household and survey forms (issue 15): rows are added and removed in the
// page. Without JavaScript the same buttons submit the form, which comes back with every value
// and one row more or less. Row numbers need not be contiguous: the server reads every m{i}_ row
// below member_rows and ignores blank ones.
(function () {
  var table = document.getElementById('member-rows');
  var count = document.getElementById('member-count');
  var add = document.getElementById('add-member');
  if (!table || !count || !add) { return; }
  var body = table.tBodies[0];

  function rows() { return body.querySelectorAll('tr.member-row'); }

  function renumber() {
    var list = rows();
    for (var r = 0; r < list.length; r++) {
      var last = list[r].cells[list[r].cells.length - 1];
      last.setAttribute('data-label', '第' + (r + 1) + '位成员');
    }
  }

  function remove(row) {
    if (rows().length <= 1) {
      var fields = row.querySelectorAll('input, select');
      for (var f = 0; f < fields.length; f++) { clear(fields[f]); }
      return;
    }
    var next = row.nextElementSibling;
    if (next && next.classList.contains('member-error-row')) { body.removeChild(next); }
    body.removeChild(row);
    renumber();
  }

  function clear(field) {
    if (field.type === 'checkbox') { field.checked = false; }
    else if (field.tagName === 'SELECT') { field.selectedIndex = field.name.match(/_care_need$/) ? field.querySelector('option[value="self"]').index : 0; }
    else { field.value = ''; }
    field.classList.remove('invalid');
  }

  add.addEventListener('click', function (event) {
    event.preventDefault();
    var list = rows();
    var template = list[list.length - 1];
    var index = parseInt(count.value, 10) || list.length;
    var row = template.cloneNode(true);
    row.setAttribute('data-row', String(index));
    var fields = row.querySelectorAll('input, select');
    for (var f = 0; f < fields.length; f++) {
      fields[f].name = fields[f].name.replace(/^m\d+_/, 'm' + index + '_');
      var label = fields[f].getAttribute('aria-label');
      if (label) { fields[f].setAttribute('aria-label', label.replace(/第\d+位/, '第' + (index + 1) + '位')); }
      clear(fields[f]);
    }
    var button = row.querySelector('button.remove-member');
    if (button) { button.value = String(index); }
    body.appendChild(row);
    count.value = String(index + 1);
    renumber();
    var first = row.querySelector('input[type="text"]');
    if (first) { first.focus(); }
  });

  body.addEventListener('click', function (event) {
    var button = event.target.closest ? event.target.closest('button.remove-member') : null;
    if (!button) { return; }
    event.preventDefault();
    var row = button.closest('tr');
    if (row) { remove(row); }
  });
})();
