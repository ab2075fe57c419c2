/* Renders the OpenAPI document as plain HTML (no external libraries). */
(function () {
  'use strict';
  const root = document.getElementById('api-docs');
  if (!root) { return; }

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }

  function schemaText(s) {
    if (!s) { return ''; }
    const parts = [s.type || ''];
    if (s.enum) { parts.push('one of ' + s.enum.join(', ')); }
    if (s.minimum !== undefined) { parts.push('≥ ' + s.minimum); }
    if (s.maximum !== undefined) { parts.push('≤ ' + s.maximum); }
    if (s.maxLength !== undefined) { parts.push('≤ ' + s.maxLength + ' chars'); }
    if (s.default !== undefined) { parts.push('default ' + s.default); }
    return parts.join('; ');
  }

  fetch(root.dataset.openapi, { headers: { Accept: 'application/json' } })
    .then(function (r) { return r.json(); })
    .then(function (doc) {
      root.textContent = '';
      root.appendChild(el('p', doc.info.description));
      Object.keys(doc.paths).sort().forEach(function (path) {
        const ops = doc.paths[path];
        Object.keys(ops).forEach(function (method) {
          const op = ops[method];
          const sec = el('section', null, 'endpoint');
          const h = el('h3');
          h.appendChild(el('span', method.toUpperCase(), 'method'));
          if (path.indexOf('{') < 0) {
            const a = el('a', ' ' + path);
            a.href = path;
            h.appendChild(a);
          } else {
            h.appendChild(el('code', ' ' + path));
          }
          sec.appendChild(h);
          sec.appendChild(el('p', op.summary));
          if (op.parameters && op.parameters.length) {
            const table = el('table', null, 'compact');
            const head = el('tr');
            ['parameter', 'in', 'required', 'schema', 'description'].forEach(function (t) { head.appendChild(el('th', t)); });
            table.appendChild(head);
            op.parameters.forEach(function (p) {
              const tr = el('tr');
              tr.appendChild(el('td', p.name));
              tr.appendChild(el('td', p.in));
              tr.appendChild(el('td', p.required ? 'yes' : 'no'));
              tr.appendChild(el('td', schemaText(p.schema)));
              tr.appendChild(el('td', p.description));
              table.appendChild(tr);
            });
            sec.appendChild(table);
          }
          const codes = Object.keys(op.responses).map(function (c) { return c + ' ' + op.responses[c].description; });
          sec.appendChild(el('p', 'Responses: ' + codes.join(' · '), 'small muted'));
          root.appendChild(sec);
        });
      });
    })
    .catch(function (err) { root.textContent = 'Cannot load the OpenAPI document: ' + err.message; });
})();
