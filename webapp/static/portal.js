/* DockDB portal: search-box autocomplete over drug names, synonyms and identifiers. */
(function () {
  'use strict';

  function drugHref(template, id) {
    return template.replace(/0$/, String(id));
  }

  function attach(input) {
    const url = input.dataset.autocomplete;
    const drugUrl = input.dataset.drugUrl;
    const list = document.createElement('ul');
    list.className = 'suggest';
    list.setAttribute('role', 'listbox');
    list.hidden = true;
    input.parentNode.style.position = 'relative';
    input.parentNode.appendChild(list);
    let timer = null;
    let active = -1;
    let seq = 0;

    function close() { list.hidden = true; active = -1; }

    function highlight(i) {
      const items = list.querySelectorAll('li');
      items.forEach(function (li, k) { li.classList.toggle('active', k === i); });
      active = i;
    }

    function render(items) {
      list.textContent = '';
      items.forEach(function (item) {
        const li = document.createElement('li');
        li.setAttribute('role', 'option');
        const a = document.createElement('a');
        a.href = drugHref(drugUrl, item.id);
        a.textContent = item.name;
        if (item.matched) {
          const span = document.createElement('span');
          span.className = 'muted';
          span.textContent = ' · ' + item.matched;
          a.appendChild(span);
        }
        li.appendChild(a);
        list.appendChild(li);
      });
      list.hidden = items.length === 0;
      active = -1;
    }

    input.addEventListener('input', function () {
      clearTimeout(timer);
      const q = input.value.trim();
      if (q.length < 2) { close(); return; }
      timer = setTimeout(function () {
        const mine = ++seq;
        fetch(url + '?limit=8&q=' + encodeURIComponent(q), { headers: { Accept: 'application/json' } })
          .then(function (r) { return r.ok ? r.json() : { items: [] }; })
          .then(function (data) { if (mine === seq) { render(data.items || []); } })
          .catch(function () { close(); });
      }, 150);
    });

    input.addEventListener('keydown', function (ev) {
      const items = list.querySelectorAll('li');
      if (list.hidden || items.length === 0) { return; }
      if (ev.key === 'ArrowDown') { ev.preventDefault(); highlight((active + 1) % items.length); }
      else if (ev.key === 'ArrowUp') { ev.preventDefault(); highlight((active - 1 + items.length) % items.length); }
      else if (ev.key === 'Escape') { close(); }
      else if (ev.key === 'Enter' && active >= 0) {
        ev.preventDefault();
        window.location.href = items[active].querySelector('a').href;
      }
    });
    input.addEventListener('blur', function () { setTimeout(close, 200); });
  }

  document.querySelectorAll('input[data-autocomplete]').forEach(attach);
})();
