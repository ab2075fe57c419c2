/* DockDB 3D viewer on top of 3Dmol.js (served from npm, see webapp/install_assets.sh).
 *
 * Target pages: the receptor as a cartoon, the pocket residues as sticks and the docking box.
 * Drug pages: receptor + pocket + ligand pose; the pose selector loads any stored pose,
 * highlights its interacting residues and updates the download links and the residue table.
 */
(function () {
  'use strict';

  const textCache = new Map();

  function getText(url) {
    if (!textCache.has(url)) {
      textCache.set(url, fetch(url).then(function (r) {
        if (!r.ok) { throw new Error(url + ' answered ' + r.status); }
        return r.text();
      }));
    }
    return textCache.get(url);
  }

  function getJSON(url) {
    return fetch(url, { headers: { Accept: 'application/json' } }).then(function (r) {
      if (!r.ok) { throw new Error(url + ' answered ' + r.status); }
      return r.json();
    });
  }

  function selections(residues) {
    const byChain = new Map();
    (residues || []).forEach(function (r) {
      const key = r.chain || '';
      if (!byChain.has(key)) { byChain.set(key, []); }
      byChain.get(key).push(r.resnum);
    });
    const out = [];
    byChain.forEach(function (nums, chain) {
      const sel = { resi: nums };
      if (chain) { sel.chain = chain; }
      out.push(sel);
    });
    return out;
  }

  function residueLabel(r) {
    return (r.chain ? r.chain + ':' : '') + (r.resname || '') + r.resnum;
  }

  function showMessage(el, text) {
    const p = document.createElement('p');
    p.className = 'viewer-error';
    p.textContent = text;
    el.appendChild(p);
  }

  function makeViewer(el) {
    return window.$3Dmol.createViewer(el, { backgroundColor: 'white', antialias: true, preserveDrawingBuffer: true });
  }

  function drawReceptor(viewer, model, pocket, interacting) {
    model.setStyle({}, { cartoon: { color: '#9fb4c7', opacity: 0.85 } });
    if (pocket) {
      selections(pocket.residues).forEach(function (sel) {
        model.setStyle(sel, { cartoon: { color: '#f0b35e' }, stick: { radius: 0.12, colorscheme: 'lightgreyCarbon' } });
      });
    }
    selections(interacting).forEach(function (sel) {
      model.setStyle(sel, { cartoon: { color: '#f0b35e' }, stick: { radius: 0.2, colorscheme: 'magentaCarbon' } });
    });
    (interacting || []).forEach(function (r) {
      const sel = { resi: r.resnum, atom: 'CA' };
      if (r.chain) { sel.chain = r.chain; }
      viewer.addLabel(residueLabel(r), { fontSize: 11, showBackground: true, backgroundOpacity: 0.6 }, sel);
    });
  }

  function drawBox(viewer, pocket) {
    if (!pocket || !pocket.center || !pocket.size) { return; }
    viewer.addBox({
      center: { x: pocket.center[0], y: pocket.center[1], z: pocket.center[2] },
      dimensions: { w: pocket.size[0], h: pocket.size[1], d: pocket.size[2] },
      color: 'orange', wireframe: true,
    });
  }

  function initTarget(el, config) {
    if (!config.receptor_url) { return; }
    const viewer = makeViewer(el);
    getText(config.receptor_url).then(function (pdb) {
      const model = viewer.addModel(pdb, 'pdb');
      drawReceptor(viewer, model, config.pocket, []);
      drawBox(viewer, config.pocket);
      const sels = config.pocket ? selections(config.pocket.residues) : [];
      if (sels.length) { viewer.zoomTo({ or: sels }); } else { viewer.zoomTo(); }
      viewer.render();
      el.dataset.ready = '1';
    }).catch(function (err) { showMessage(el, 'Cannot load the receptor: ' + err.message); });
  }

  function setLink(id, href) {
    const a = document.getElementById(id);
    if (a) { a.href = href; }
  }

  function updatePlausibility(pose) {
    const p = document.getElementById('pose-plausibility');
    if (!p) { return; }
    p.textContent = 'PoseBusters: ';
    const span = document.createElement('span');
    if (pose.posebusters_pass === true) {
      span.className = 'pb-pass'; span.textContent = 'passes every check';
    } else if (pose.posebusters_pass === false) {
      span.className = 'pb-fail'; span.textContent = 'fails';
    } else {
      span.className = 'muted'; span.textContent = 'not checked';
    }
    p.appendChild(span);
    if (pose.posebusters_pass === false) {
      const names = (pose.posebusters_failed || []).map(function (n) { return n.replace(/_/g, ' '); });
      p.appendChild(document.createTextNode(' ' + names.join(', ')));
    }
  }

  function updatePanel(pose) {
    const summary = document.getElementById('pose-summary');
    if (summary) {
      summary.textContent = 'Pose ' + pose.id + ' on ' + (pose.target ? pose.target.name : '?') + ', rank ' +
        pose.rank + ', score ' + pose.score + ' kcal/mol';
    }
    updatePlausibility(pose);
    setLink('dl-sdf', pose.urls.sdf);
    setLink('dl-pdbqt', pose.urls.pdbqt);
    setLink('dl-complex', pose.urls.complex);
    const body = document.querySelector('#interactions tbody');
    if (body) {
      body.textContent = '';
      (pose.interactions.length ? pose.interactions : [null]).forEach(function (r) {
        const tr = document.createElement('tr');
        const a = document.createElement('td');
        const b = document.createElement('td');
        if (r) { a.textContent = residueLabel(r); b.textContent = r.type; }
        else { a.textContent = 'none recorded'; a.colSpan = 2; a.className = 'muted'; }
        tr.appendChild(a);
        if (r) { tr.appendChild(b); }
        body.appendChild(tr);
      });
    }
  }

  function initPose(el, config) {
    const viewer = makeViewer(el);
    const select = document.querySelector('[data-pose-select]');
    let seq = 0;

    function load(poseId) {
      const mine = ++seq;
      el.dataset.ready = '0';
      getJSON('/api/v1/poses/' + encodeURIComponent(poseId)).then(function (pose) {
        return getText(pose.urls.receptor).then(function (pdb) { return [pose, pdb]; });
      }).then(function (both) {
        if (mine !== seq) { return; }
        const pose = both[0];
        viewer.clear();
        const receptor = viewer.addModel(both[1], 'pdb');
        drawReceptor(viewer, receptor, pose.pocket, pose.interactions);
        if (pose.sdf) {
          const ligand = viewer.addModel(pose.sdf, 'sdf');
          ligand.setStyle({}, { stick: { radius: 0.25, colorscheme: 'greenCarbon' } });
          viewer.zoomTo({ model: ligand });
          viewer.zoom(0.6);
        } else {
          viewer.zoomTo();
        }
        viewer.render();
        updatePanel(pose);
        el.dataset.poseId = String(pose.id);
        el.dataset.ready = '1';
      }).catch(function (err) { showMessage(el, 'Cannot load the pose: ' + err.message); });
    }

    if (select) { select.addEventListener('change', function () { load(select.value); }); }
    if (config.pose_id) { load(config.pose_id); }
  }

  document.querySelectorAll('[data-viewer]').forEach(function (el) {
    const cfgNode = document.getElementById(el.dataset.viewer);
    const config = cfgNode ? JSON.parse(cfgNode.textContent) : {};
    if (!window.$3Dmol) {
      showMessage(el, '3D viewer not installed: run webapp/install_assets.sh');
      return;
    }
    if (config.mode === 'target') { initTarget(el, config); } else { initPose(el, config); }
  });
})();
