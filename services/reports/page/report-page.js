// The report page's script (services/reports/report-page.ts serves it as is: no build step).
// Every number comes from the API's own routes, read with the session cookie; the org is the
// session's, given by the server in #dugout-config. Cells show values rounded like the CLI's
// table (report-format.ts displayValue) and carry the exact value in data-value.
'use strict'
;(() => {
  const config = JSON.parse(document.getElementById('dugout-config').textContent)
  const base = `/v1/orgs/${encodeURIComponent(config.org)}`
  const explainable = { manager: new Set(config.explain.manager), rep: new Set(config.explain.rep) }
  const TABLES = [
    ['team-summary', 'Team summary: each manager’s three jobs and the team’s volume'],
    ['manager-autonomy', 'Autonomy: does the manager let reps run their deals?'],
    ['manager-direction', 'Direction: does every rep know what is expected?'],
    ['manager-care', 'Care: answers, one-on-ones, recognition'],
    ['rep-volume', 'Rep volume'],
  ]
  const CHARTS = [
    { id: 'chart-autonomy', ratio: true, metrics: [['intervention_rate', 'step-in rate']] },
    { id: 'chart-direction', ratio: true, metrics: [['quota_coverage', 'quota coverage']] },
    {
      id: 'chart-care',
      ratio: true,
      metrics: [
        ['reply_within_24h_share', 'replied within 24 h'],
        ['one_on_one_coverage', 'one-on-one coverage'],
      ],
    },
    {
      id: 'chart-volume',
      ratio: false,
      metrics: [
        ['team_opportunities_created', 'new opportunities'],
        ['team_opportunities_qualified', 'qualified'],
      ],
    },
  ]
  const COLOURS = ['#1f5f99', '#d9822b']
  const charts = new Map()
  const el = (id) => document.getElementById(id)
  const status = (text, error = false) => {
    el('status').textContent = text
    el('status').classList.toggle('error', error)
  }

  async function api(path) {
    const response = await fetch(base + path, { credentials: 'same-origin', headers: { accept: 'application/json' } })
    if (response.status === 401 || response.status === 403) {
      window.location.assign('/ui/login')
      throw new Error('the session has ended: log in again')
    }
    const body = await response.json()
    if (!response.ok) throw new Error(body.detail || `${response.status} on ${path}`)
    return body
  }

  // report-format.ts displayValue: ratios as percentages, amounts per currency, null as a dash.
  function display(column, value) {
    if (value === null || value === undefined) return '–'
    if (typeof value === 'number') {
      if (/(_rate|_share|coverage)$/.test(column)) return `${(value * 100).toFixed(1)}%`
      if (Number.isInteger(value)) return String(value)
      return value.toFixed(column.endsWith('_minutes') ? 0 : 2)
    }
    if (typeof value === 'object') {
      const entries = Object.entries(value)
      return entries.length === 0
        ? '0'
        : entries.map(([c, amount]) => `${c} ${Math.round(amount).toLocaleString('en-US')}`).join(', ')
    }
    return String(value)
  }
  const label = (column) => column.replace(/_/g, ' ')
  const person = (id, name) => (name ? `${name} (${id})` : id || '–')

  // The last 8 whole ISO weeks before today in the org's time zone, as the CLI's --last 8w.
  function defaultRange(timezone) {
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: timezone }).format(new Date())
    const day = new Date(`${today}T00:00:00Z`)
    const monday = new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * 86400000)
    const iso = (d) => d.toISOString().slice(0, 10)
    return { from: iso(new Date(monday.getTime() - 56 * 86400000)), to: iso(new Date(monday.getTime() - 86400000)) }
  }

  function table(name, caption, rows, selected) {
    const columns = config.columns[name]
    const section = document.createElement('section')
    section.className = 'report'
    section.dataset.report = name
    const heading = document.createElement('h2')
    heading.textContent = caption
    section.append(heading)
    const wrap = document.createElement('div')
    wrap.className = 'scroll'
    const t = document.createElement('table')
    const head = t.createTHead().insertRow()
    for (const column of columns) {
      const th = document.createElement('th')
      th.textContent = label(column)
      th.scope = 'col'
      head.append(th)
    }
    const tbody = t.createTBody()
    for (const row of rows) {
      const tr = tbody.insertRow()
      tr.dataset.id = name === 'rep-volume' ? row.rep_id : row.manager_id
      if (name !== 'rep-volume' && row.manager_id === selected) tr.classList.add('selected')
      for (const column of columns) {
        const td = tr.insertCell()
        td.dataset.column = column
        const value = row[column]
        if (column === 'manager_id') td.textContent = person(value, row.manager_name)
        else if (column === 'rep_id') td.textContent = person(value, row.rep_name)
        else {
          td.dataset.value = JSON.stringify(value ?? null)
          td.className = 'number'
          const subject = name === 'rep-volume' ? 'rep' : 'manager'
          if (explainable[subject].has(column) && name !== 'team-summary') {
            const button = document.createElement('button')
            button.type = 'button'
            button.className = 'explain'
            button.textContent = display(column, value)
            button.title = `What counts in ${label(column)}`
            button.addEventListener('click', () => explain(column, subject, tr.dataset.id))
            td.append(button)
          } else td.textContent = display(column, value)
        }
      }
    }
    if (rows.length === 0) {
      const td = tbody.insertRow().insertCell()
      td.colSpan = columns.length
      td.textContent = 'No rows in this range.'
    }
    wrap.append(t)
    section.append(wrap)
    return section
  }

  async function explain(metric, subject, id) {
    const panel = el('explain')
    panel.hidden = false
    el('explain-title').textContent = `${label(metric)} of ${id}`
    const body = el('explain-body')
    body.textContent = 'Loading…'
    try {
      const query = new URLSearchParams({ [subject]: id, from: el('from').value, to: el('to').value })
      const answer = await api(`/explain/${encodeURIComponent(metric)}?${query}`)
      body.textContent = ''
      const summary = document.createElement('p')
      summary.textContent = `${answer.value} ${answer.unit}${answer.value === 1 ? '' : 's'}, ${answer.from} to ${answer.to}`
      body.append(summary)
      const list = document.createElement('ol')
      list.className = 'items'
      for (const item of answer.items) {
        const li = document.createElement('li')
        li.dataset.item = item.id
        const strong = document.createElement('strong')
        strong.textContent = item.id
        li.append(strong)
        const events = document.createElement('ul')
        for (const event of item.events) {
          const e = document.createElement('li')
          e.textContent = `${event.occurred_at.slice(0, 16).replace('T', ' ')} ${event.type}: ${event.why}${
            event.source_ref ? ` (${event.source_ref})` : ''
          }`
          events.append(e)
        }
        li.append(events)
        list.append(li)
      }
      body.append(list)
    } catch (error) {
      body.textContent = String(error.message || error)
    }
  }

  async function drawCharts(manager, from, to) {
    const query = (metric) => `/trend/${metric}?${new URLSearchParams({ manager, from, to })}`
    await Promise.all(
      CHARTS.map(async (chart) => {
        const series = await Promise.all(chart.metrics.map(([metric]) => api(query(metric))))
        const labels = series[0].map((point) => point.week)
        const datasets = chart.metrics.map(([metric, name], i) => ({
          label: name,
          data: series[i].map((point) =>
            point[metric] === null ? null : chart.ratio ? point[metric] * 100 : point[metric],
          ),
          borderColor: COLOURS[i],
          backgroundColor: COLOURS[i],
          spanGaps: true,
        }))
        charts.get(chart.id)?.destroy()
        const canvas = el(chart.id)
        canvas.dataset.points = String(datasets.reduce((n, d) => n + d.data.filter((v) => v !== null).length, 0))
        charts.set(
          chart.id,
          new window.Chart(canvas, {
            type: chart.ratio ? 'line' : 'bar',
            data: { labels, datasets },
            options: {
              animation: false,
              maintainAspectRatio: false,
              scales: {
                y: {
                  beginAtZero: true,
                  ...(chart.ratio ? { max: 100, ticks: { callback: (v) => `${v}%` } } : {}),
                },
              },
              plugins: { legend: { display: datasets.length > 1 } },
            },
          }),
        )
      }),
    )
  }

  async function show() {
    const from = el('from').value
    const to = el('to').value
    status(`Loading ${from} to ${to}…`)
    try {
      const range = new URLSearchParams({ from, to, names: 'true' })
      const reports = Object.fromEntries(
        await Promise.all(TABLES.map(async ([name]) => [name, await api(`/reports/${name}?${range}`)])),
      )
      const managers = reports['team-summary']
      const picker = el('manager')
      const previous = picker.value
      picker.textContent = ''
      for (const row of managers) picker.append(new Option(person(row.manager_id, row.manager_name), row.manager_id))
      if (managers.some((row) => row.manager_id === previous)) picker.value = previous
      const manager = picker.value
      const tables = el('tables')
      tables.textContent = ''
      for (const [name, caption] of TABLES) {
        const rows = name === 'rep-volume' ? reports[name].filter((row) => row.manager_id === manager) : reports[name]
        const title = name === 'rep-volume' ? `${caption}: ${picker.selectedOptions[0]?.text ?? 'no manager'}` : caption
        tables.append(table(name, title, rows, manager))
      }
      if (manager) await drawCharts(manager, from, to)
      document.body.dataset.loaded = 'true'
      status(
        manager ? `${from} to ${to}. Click a count to see what is behind it.` : 'No manager has a row in this range.',
      )
    } catch (error) {
      status(String(error.message || error), true)
    }
  }

  async function start() {
    const settings = await api('/settings')
    const range = defaultRange(settings.timezone)
    el('from').value = range.from
    el('to').value = range.to
    el('controls').addEventListener('submit', (event) => {
      event.preventDefault()
      void show()
    })
    el('manager').addEventListener('change', () => void show())
    el('explain-close').addEventListener('click', () => (el('explain').hidden = true))
    await show()
  }

  start().catch((error) => status(String(error.message || error), true))
})()
