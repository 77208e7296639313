/* Starling dashboard: plain JavaScript over the admin API (/api/v1/...), served by the broker itself. */
(function () {
  'use strict';

  var POLL_MS = 5000;
  var PAGE = 50;
  var $ = function (id) { return document.getElementById(id); };

  // ---- HTTP ------------------------------------------------------------------------------------------------------

  /** Resolves to {status, body} (body parsed as JSON when it is JSON); rejects on a network failure only. */
  function api(method, path, body) {
    var init = { method: method, headers: { 'Accept': 'application/json' }, credentials: 'same-origin' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    // absolute, from the origin: a page opened as http://user:password@host/ resolves relative URLs with the
    // credentials in them, which fetch refuses; the browser sends the credentials it has for the origin anyway
    return fetch(location.origin + path, init).then(function (res) {
      return res.text().then(function (text) {
        var parsed = null;
        if (text) {
          try { parsed = JSON.parse(text); } catch (e) { parsed = { error: text }; }
        }
        return { status: res.status, body: parsed };
      });
    });
  }

  /** GET that resolves to the body of a 2xx answer and rejects with an Error otherwise. */
  function getJson(path) {
    return api('GET', path).then(function (r) {
      if (r.status < 200 || r.status > 299) {
        throw new Error(describe(r));
      }
      banner(null);
      return r.body;
    }, function (e) {
      banner('The broker does not answer (' + e.message + ').');
      throw e;
    });
  }

  function describe(r) {
    var msg = 'HTTP ' + r.status;
    if (r.body && r.body.error) {
      msg += ': ' + r.body.error;
      if (r.body.field) {
        msg += ' (' + r.body.field + ')';
      }
    }
    return msg;
  }

  function query(params) {
    var parts = [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (v !== undefined && v !== null && v !== '') {
        parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
      }
    });
    return parts.length ? '?' + parts.join('&') : '';
  }

  function banner(text) {
    var b = $('error-banner');
    b.textContent = text || '';
    b.hidden = !text;
  }

  // ---- DOM helpers -----------------------------------------------------------------------------------------------

  /** An element with text content (never HTML) and attributes. */
  function el(tag, text, attrs) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) {
      e.textContent = String(text);
    }
    if (attrs) {
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    }
    return e;
  }

  function row(cells, attrs) {
    var tr = el('tr', null, attrs);
    cells.forEach(function (c) {
      var td = el('td');
      if (c instanceof Node) {
        td.appendChild(c);
      } else {
        td.textContent = c === null || c === undefined ? '–' : String(c);
      }
      tr.appendChild(td);
    });
    return tr;
  }

  function fill(tbody, rows, columns, emptyText) {
    tbody.textContent = '';
    if (!rows.length) {
      tbody.appendChild(el('tr', null, { 'class': 'empty' })).appendChild(el('td', emptyText, { colspan: columns }));
    }
    rows.forEach(function (r) { tbody.appendChild(r); });
  }

  function setResult(node, ok, text) {
    node.textContent = text;
    node.className = 'result ' + (ok ? 'ok' : 'error');
  }

  function fmtNum(n) {
    if (n === undefined || n === null) { return '–'; }
    if (typeof n === 'number' && !Number.isInteger(n)) { return n.toFixed(1); }
    return String(n);
  }

  function fmtUptime(s) {
    if (s === undefined || s === null) { return '–'; }
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d) { return d + 'd ' + h + 'h ' + m + 'm'; }
    if (h) { return h + 'h ' + m + 'm'; }
    return m + 'm ' + (s % 60) + 's';
  }

  function fmtTime(iso) {
    if (!iso) { return '–'; }
    var d = new Date(iso);
    return isNaN(d.getTime()) ? iso : d.toLocaleString();
  }

  /** A pager under a table: "‹ 1–50 of 120 ›", calling load(offset) on a click. */
  function pager(container, page, load) {
    container.textContent = '';
    var total = page.total || 0, offset = page.offset || 0, limit = page.limit || PAGE;
    var prev = el('button', '‹ Previous', { type: 'button', 'class': 'prev' });
    var next = el('button', 'Next ›', { type: 'button', 'class': 'next' });
    prev.disabled = offset <= 0;
    next.disabled = offset + limit >= total;
    prev.addEventListener('click', function () { load(Math.max(0, offset - limit)); });
    next.addEventListener('click', function () { load(offset + limit); });
    var first = total === 0 ? 0 : offset + 1;
    container.appendChild(prev);
    container.appendChild(el('span', first + '–' + Math.min(offset + limit, total) + ' of ' + total, { 'class': 'info' }));
    container.appendChild(next);
  }

  function debounce(fn, ms) {
    var t = null;
    return function () {
      clearTimeout(t);
      t = setTimeout(fn, ms);
    };
  }

  // ---- tabs ------------------------------------------------------------------------------------------------------

  var TABS = ['overview', 'clients', 'subscriptions', 'retained', 'publish'];
  var current = null;

  function showTab() {
    var name = location.hash.replace('#', '');
    if (TABS.indexOf(name) < 0) { name = 'overview'; }
    current = name;
    TABS.forEach(function (t) { $('tab-' + t).hidden = t !== name; });
    syncDrawer();
    document.querySelectorAll('#nav a').forEach(function (a) {
      a.classList.toggle('active', a.getAttribute('data-tab') === name);
    });
    if (name === 'overview') { refreshOverview(); resizeCharts(); }
    if (name === 'clients') { loadClients(clientsOffset); }
    if (name === 'subscriptions') { loadSubscriptions(0); }
    if (name === 'retained') { loadRetained(retainedOffset); }
    if (name === 'publish') { $('publish-topic').focus(); }
  }

  /** Opens or closes a detail panel; while one shows, the page leaves room for it on a wide screen. */
  function drawer(id, open) {
    $(id).hidden = !open;
    syncDrawer();
  }

  function syncDrawer() {
    var open = (!$('tab-clients').hidden && !$('client-detail').hidden)
      || (!$('tab-retained').hidden && !$('retained-view').hidden);
    document.body.classList.toggle('drawer-open', open);
  }

  // ---- overview --------------------------------------------------------------------------------------------------

  function refreshOverview() {
    return getJson('/api/v1/overview').then(function (o) {
      var st = $('status');
      st.textContent = o.status || '?';
      st.className = 'status ' + (o.status === 'UP' ? 'up' : 'down');
      $('overview-version').textContent = o.version || '–';
      $('overview-uptime').textContent = fmtUptime(o.uptimeSeconds);
      $('overview-store').textContent = o.storeWritable === undefined ? '–'
        : (o.storeWritable ? 'writable' : 'NOT writable');
      var c = o.counts || {};
      $('count-connections').textContent = fmtNum(c.connections !== undefined ? c.connections : o.connectionsOpen);
      $('count-sessions').textContent = fmtNum(c.sessions !== undefined ? c.sessions : o.sessions);
      $('count-sessions-online').textContent = fmtNum(c.sessionsOnline);
      $('count-subscriptions').textContent = fmtNum(c.subscriptions);
      $('count-retained').textContent = fmtNum(c.retainedMessages !== undefined ? c.retainedMessages : o.retainedMessages);
      var r = o.rates || {};
      $('rate-received').textContent = fmtNum(r.messagesReceivedPerSecond);
      $('rate-sent').textContent = fmtNum(r.messagesSentPerSecond);
      fill($('listeners-table').tBodies[0], (o.listeners || []).map(function (l) {
        return row([l.type, l.bind, l.port]);
      }), 3, 'no listener');
      // a node of a cluster: its members, and the node link with each of them
      var cl = o.cluster;
      $('cluster-panel').hidden = !cl;
      if (cl) {
        $('cluster-title').textContent = 'Cluster: node ' + cl.node
          + (cl.acceptsConnections ? '' : ' (refusing connections: fewer than ' + cl.minSize + ' members)');
        var peers = {};
        (cl.peers || []).forEach(function (p) { peers[p.name] = p; });
        fill($('cluster-table').tBodies[0], (cl.members || []).map(function (m) {
          var p = peers[m.name] || {};
          return row([m.name + (m.local ? ' (this node)' : ''), m.address,
            m.local ? null : (p.linkUp ? 'up' : 'down'), p.messagesSent, p.messagesReceived, p.waiting, p.resent,
            p.duplicatesDropped]);
        }), 8, 'no member');
      }
    }, function () { /* shown in the banner */ });
  }

  var charts = {};
  var CHARTS = [
    { id: 'chart-connections', series: [{ key: 'connections', label: 'connections', stroke: '#2563eb' }] },
    { id: 'chart-messages', series: [
      { key: 'receivedPerSecond', label: 'received/s', stroke: '#059669' },
      { key: 'sentPerSecond', label: 'sent/s', stroke: '#d97706' }] },
    { id: 'chart-dropped', series: [{ key: 'droppedPerSecond', label: 'dropped/s', stroke: '#dc2626' }] },
    { id: 'chart-queued', series: [{ key: 'queuedMessages', label: 'queued', stroke: '#7c3aed' }] }
  ];

  function chartSize(node) {
    return { width: Math.max(240, node.clientWidth || node.parentNode.clientWidth || 400), height: 160 };
  }

  function historyData(h, spec) {
    var samples = (h && h.samples) || [];
    var data = [samples.map(function (s) { return s.t / 1000; })];
    spec.series.forEach(function (s) {
      data.push(samples.map(function (x) { return x[s.key] === undefined ? null : x[s.key]; }));
    });
    return data;
  }

  function refreshHistory() {
    return getJson('/api/v1/history').then(function (h) {
      CHARTS.forEach(function (spec) {
        var data = historyData(h, spec);
        $(spec.id).setAttribute('data-samples', String(data[0].length));
        if (charts[spec.id]) {
          charts[spec.id].setData(data);
          return;
        }
        if (typeof window.uPlot !== 'function') {
          return;
        }
        var node = $(spec.id);
        var size = chartSize(node);
        var opts = {
          width: size.width,
          height: size.height,
          scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } },
          legend: { show: true },
          series: [{}].concat(spec.series.map(function (s) {
            return { label: s.label, stroke: s.stroke, width: 1.5, fill: s.stroke + '22' };
          }))
        };
        charts[spec.id] = new window.uPlot(opts, data, node);
      });
    }, function () { /* shown in the banner */ });
  }

  function resizeCharts() {
    Object.keys(charts).forEach(function (id) {
      charts[id].setSize(chartSize($(id)));
    });
  }

  // ---- clients ---------------------------------------------------------------------------------------------------

  var clientsOffset = 0;
  var shownClients = null;
  var clientsSeq = 0;

  function loadClients(offset) {
    clientsOffset = offset;
    var q = query({ offset: offset, limit: PAGE, clientId: $('client-search').value.trim(),
      connected: $('client-connected').value });
    var seq = ++clientsSeq;
    return getJson('/api/v1/clients' + q).then(function (page) {
      if (seq !== clientsSeq) {
        return; // a later search has been asked for: its answer is the one to show
      }
      var json = q + JSON.stringify(page);
      if (json === shownClients) {
        return; // unchanged: keep the rows (and whatever the pointer is on)
      }
      shownClients = json;
      fill($('clients-table').tBodies[0], page.items.map(function (c) {
        var open = el('button', 'Details', { type: 'button', 'class': 'client-open', 'data-client-id': c.clientId });
        return row([c.clientId, c.connected ? 'connected' : 'offline', c.user, c.address, c.listener, c.protocol,
          c.subscriptions, c.inflight, c.queuedMessages, open],
          { 'data-client-id': c.clientId, 'class': c.connected ? 'online' : 'offline' });
      }), 10, 'no client');
      pager($('clients-pager'), page, loadClients);
    }, function () { /* shown in the banner */ });
  }

  function showClient(id) {
    $('client-action-result').textContent = '';
    $('client-discard-session').checked = false;
    return api('GET', '/api/v1/clients/' + encodeURIComponent(id)).then(function (r) {
      drawer('client-detail', true);
      $('client-detail-title').textContent = id;
      $('client-disconnect').setAttribute('data-client-id', id);
      var dl = $('client-detail-fields');
      dl.textContent = '';
      if (r.status !== 200) {
        dl.appendChild(el('dt', r.status === 404 ? 'State' : 'Error'));
        dl.appendChild(el('dd', r.status === 404 ? 'no session (removed or expired)' : describe(r)));
        fill($('client-subscriptions-table').tBodies[0], [], 6, '–');
        return;
      }
      var c = r.body;
      [['State', c.connected ? 'connected' : 'offline'], ['User', c.user], ['Address', c.address],
        ['Listener', c.listener], ['Protocol', c.protocol], ['Connected at', fmtTime(c.connectedAt)],
        ['Keep-alive', c.keepAlive === undefined || c.keepAlive === null ? null : c.keepAlive + ' s'],
        ['Session expiry', c.sessionExpiryInterval === undefined || c.sessionExpiryInterval === null ? null
          : c.sessionExpiryInterval + ' s'],
        ['Clean start', c.cleanStart], ['In-flight', c.inflight], ['Queued messages', c.queuedMessages],
        ['Queued bytes', c.queuedBytes]].forEach(function (f) {
        dl.appendChild(el('dt', f[0]));
        dl.appendChild(el('dd', f[1] === undefined || f[1] === null ? '–' : f[1]));
      });
      var subs = Array.isArray(c.subscriptions) ? c.subscriptions : [];
      fill($('client-subscriptions-table').tBodies[0], subs.map(function (s) {
        return row([s.filter, s.qos, s.noLocal, s.retainAsPublished, s.retainHandling, s.subscriptionIdentifier]);
      }), 6, 'no subscription');
    }, function (e) { banner('The broker does not answer (' + e.message + ').'); });
  }

  function disconnectClient() {
    var id = $('client-disconnect').getAttribute('data-client-id');
    if (!id) { return; }
    var discard = $('client-discard-session').checked;
    var out = $('client-action-result');
    out.textContent = '…';
    api('POST', '/api/v1/clients/' + encodeURIComponent(id) + '/disconnect', { discardSession: discard })
      .then(function (r) {
        if (r.status === 200) {
          var b = r.body || {};
          var text = (b.disconnected ? 'Disconnected.' : 'Was not connected.')
            + (b.sessionDiscarded ? ' Session discarded.' : '');
          loadClients(clientsOffset);
          showClient(id).then(function () { setResult(out, true, text); });
        } else {
          setResult(out, false, describe(r));
        }
      }, function (e) { setResult(out, false, 'The broker does not answer (' + e.message + ').'); });
  }

  // ---- subscriptions ---------------------------------------------------------------------------------------------

  var subscriptionsSeq = 0;

  function loadSubscriptions(offset) {
    var q = query({ offset: offset, limit: PAGE, filter: $('subscription-filter').value.trim(),
      clientId: $('subscription-client').value.trim() });
    var seq = ++subscriptionsSeq;
    return getJson('/api/v1/subscriptions' + q).then(function (page) {
      if (seq !== subscriptionsSeq) { return; }
      fill($('subscriptions-table').tBodies[0], page.items.map(function (s) {
        return row([s.clientId, s.filter, s.qos, s.shareName], { 'data-client-id': s.clientId });
      }), 4, 'no subscription');
      pager($('subscriptions-pager'), page, loadSubscriptions);
    }, function () { /* shown in the banner */ });
  }

  // ---- retained messages -----------------------------------------------------------------------------------------

  var retainedOffset = 0;
  var shownRetained = null;
  var retainedSeq = 0;
  var retainedLoadFailed = false;

  function loadRetained(offset) {
    retainedOffset = offset;
    var q = query({ offset: offset, limit: PAGE, filter: $('retained-filter').value.trim() || '#' });
    var seq = ++retainedSeq;
    return api('GET', '/api/v1/retained' + q).then(function (r) {
      if (seq !== retainedSeq) { return; }
      if (r.status !== 200) {
        setResult($('retained-result'), false, describe(r));
        retainedLoadFailed = true;
        return;
      }
      if (retainedLoadFailed) {
        $('retained-result').textContent = ''; // the search works again; an action's result stays
        retainedLoadFailed = false;
      }
      var page = r.body;
      fill($('retained-table').tBodies[0], page.items.map(function (m) {
        var actions = el('span', null, { 'class': 'row-actions' });
        actions.appendChild(el('button', 'View', { type: 'button', 'class': 'retained-view', 'data-topic': m.topic }));
        actions.appendChild(el('button', 'Delete',
          { type: 'button', 'class': 'retained-delete danger', 'data-topic': m.topic }));
        return row([m.topic, m.qos, m.payloadBytes, actions], { 'data-topic': m.topic });
      }), 4, 'no retained message');
      pager($('retained-pager'), page, loadRetained);
    }, function (e) { banner('The broker does not answer (' + e.message + ').'); });
  }

  function renderRetainedPayload() {
    var m = shownRetained;
    if (!m) { return; }
    var pre = $('retained-payload');
    if ($('retained-encoding').value === 'text' && m.payload !== null && m.payload !== undefined) {
      pre.textContent = m.payload;
      pre.className = '';
    } else {
      pre.textContent = m.payloadBase64 || '';
      pre.className = 'base64';
    }
  }

  function viewRetained(topic) {
    api('GET', '/api/v1/retained/message' + query({ topic: topic })).then(function (r) {
      if (r.status !== 200) {
        setResult($('retained-result'), false, r.status === 404 ? 'No retained message on ' + topic + ' any more.'
          : describe(r));
        return;
      }
      shownRetained = r.body;
      drawer('retained-view', true);
      $('retained-view-topic').textContent = r.body.topic;
      var textual = r.body.payload !== null && r.body.payload !== undefined;
      $('retained-encoding').value = textual ? 'text' : 'base64';
      $('retained-view-meta').textContent = 'QoS ' + r.body.qos + (textual ? '' : ' · not UTF-8 text');
      renderRetainedPayload();
      var dl = $('retained-properties');
      dl.textContent = '';
      var props = r.body.properties || {};
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === null || v === undefined || (Array.isArray(v) && !v.length)) { return; }
        if (k === 'userProperties' && Array.isArray(v)) {
          v = v.map(function (p) { return p.key + '=' + p.value; }).join(', ');
        }
        dl.appendChild(el('dt', k));
        dl.appendChild(el('dd', typeof v === 'object' ? JSON.stringify(v) : v));
      });
    }, function (e) { banner('The broker does not answer (' + e.message + ').'); });
  }

  function deleteRetained(topic) {
    if (!window.confirm('Delete the retained message on ' + topic + '?')) { return; }
    api('DELETE', '/api/v1/retained/message' + query({ topic: topic })).then(function (r) {
      if (r.status === 204 || r.status === 200) {
        setResult($('retained-result'), true, 'Deleted the retained message on ' + topic + '.');
        if (shownRetained && shownRetained.topic === topic) {
          drawer('retained-view', false);
          shownRetained = null;
        }
      } else {
        setResult($('retained-result'), false, describe(r));
      }
      loadRetained(retainedOffset);
    }, function (e) { banner('The broker does not answer (' + e.message + ').'); });
  }

  // ---- publish ---------------------------------------------------------------------------------------------------

  var FIELD_INPUTS = { topic: 'publish-topic', payload: 'publish-payload', payloadEncoding: 'publish-encoding',
    qos: 'publish-qos', retain: 'publish-retain', contentType: 'publish-content-type',
    messageExpiryInterval: 'publish-expiry' };

  function publish(ev) {
    ev.preventDefault();
    Object.keys(FIELD_INPUTS).forEach(function (k) { $(FIELD_INPUTS[k]).classList.remove('invalid'); });
    var body = {
      topic: $('publish-topic').value,
      payload: $('publish-payload').value,
      payloadEncoding: $('publish-encoding').value,
      qos: parseInt($('publish-qos').value, 10),
      retain: $('publish-retain').checked
    };
    var props = {};
    var ct = $('publish-content-type').value.trim();
    if (ct) { props.contentType = ct; }
    var exp = $('publish-expiry').value.trim();
    if (exp) { props.messageExpiryInterval = Number(exp); }
    if (Object.keys(props).length) { body.properties = props; }
    var out = $('publish-result');
    var button = $('publish-submit');
    button.disabled = true;
    out.className = 'result';
    out.textContent = 'Publishing…';
    api('POST', '/api/v1/publish', body).then(function (r) {
      button.disabled = false;
      if (r.status === 200) {
        var b = r.body || {};
        setResult(out, true, 'Published ' + b.payloadBytes + ' bytes to ' + b.topic + ' (QoS ' + b.qos
          + (b.retain ? ', retained' : '') + ').');
      } else {
        setResult(out, false, describe(r));
        var field = r.body && r.body.field ? String(r.body.field).split('.').pop() : null;
        if (field && FIELD_INPUTS[field]) {
          $(FIELD_INPUTS[field]).classList.add('invalid');
          $(FIELD_INPUTS[field]).focus();
        }
      }
    }, function (e) {
      button.disabled = false;
      setResult(out, false, 'The broker does not answer (' + e.message + ').');
    });
  }

  // ---- wiring ----------------------------------------------------------------------------------------------------

  function start() {
    window.addEventListener('hashchange', showTab);
    window.addEventListener('resize', debounce(resizeCharts, 150));

    var searchClients = debounce(function () { loadClients(0); }, 250);
    $('client-search').addEventListener('input', searchClients);
    $('client-connected').addEventListener('change', function () { loadClients(0); });
    $('clients-form').addEventListener('submit', function (e) { e.preventDefault(); loadClients(0); });
    $('clients-refresh').addEventListener('click', function () { loadClients(clientsOffset); });
    $('clients-table').addEventListener('click', function (e) {
      var t = e.target.closest('tr[data-client-id]');
      if (t) { showClient(t.getAttribute('data-client-id')); }
    });
    $('client-detail-close').addEventListener('click', function () { drawer('client-detail', false); });
    $('client-disconnect').addEventListener('click', disconnectClient);

    $('subscriptions-form').addEventListener('submit', function (e) { e.preventDefault(); loadSubscriptions(0); });

    $('retained-form').addEventListener('submit', function (e) { e.preventDefault(); loadRetained(0); });
    $('retained-table').addEventListener('click', function (e) {
      var b = e.target.closest('button[data-topic]');
      if (!b) { return; }
      if (b.classList.contains('retained-delete')) {
        deleteRetained(b.getAttribute('data-topic'));
      } else {
        viewRetained(b.getAttribute('data-topic'));
      }
    });
    $('retained-encoding').addEventListener('change', renderRetainedPayload);
    $('retained-view-close').addEventListener('click', function () { drawer('retained-view', false); });
    $('retained-view-delete').addEventListener('click', function () {
      if (shownRetained) { deleteRetained(shownRetained.topic); }
    });

    $('publish-form').addEventListener('submit', publish);

    showTab();
    refreshOverview();
    refreshHistory();
    setInterval(function () {
      if (document.hidden) { return; }
      refreshHistory();
      refreshOverview();
      if (current === 'clients') { loadClients(clientsOffset); }
    }, POLL_MS);
  }

  start();
}());
