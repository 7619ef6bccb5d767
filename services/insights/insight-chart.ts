/**
 * The email's chart: a small PNG line chart of the manager's key metrics over the last eight
 * weeks (shares, 0–100 %), drawn with @napi-rs/canvas (Skia, prebuilt binaries per platform: no
 * compilation, no system libraries). Text uses the system's sans-serif font; where none is
 * installed the lines and axes still draw and only the labels are missing.
 */
import { createCanvas } from '@napi-rs/canvas'
import type { KeyMetricWeek } from '../../schemas/insights.schema.ts'

/** Size of the PNG in pixels: drawn at twice the size the email shows (600 px wide), for sharp screens. */
export const CHART_WIDTH = 1200
export const CHART_HEIGHT = 520

/** The metrics drawn, their legend and colour (distinguishable in common colour blindness). */
export const CHART_SERIES = [
  { metric: 'intervention_rate', label: 'Deals you stepped into', color: '#d55e00' },
  { metric: 'reply_within_24h_share', label: 'Rep messages replied within 24 h', color: '#0072b2' },
  { metric: 'one_on_one_coverage', label: 'Reps with a one-on-one', color: '#009e73' },
] as const satisfies readonly { metric: keyof Omit<KeyMetricWeek, 'week'>; label: string; color: string }[]

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** "Feb 16" of a `YYYY-MM-DD`. */
export function shortDay(day: string): string {
  return `${MONTHS[Number(day.slice(5, 7)) - 1]} ${Number(day.slice(8, 10))}`
}

/**
 * The chart as PNG bytes. A null value (no row that week, or nothing to divide by) leaves a gap
 * in its line rather than drawing a zero that did not happen.
 */
export async function renderChart(weeks: readonly KeyMetricWeek[]): Promise<Buffer> {
  const canvas = createCanvas(CHART_WIDTH, CHART_HEIGHT)
  const g = canvas.getContext('2d')
  g.scale(2, 2)
  const width = CHART_WIDTH / 2
  const height = CHART_HEIGHT / 2
  const plot = { left: 44, right: width - 28, top: 16, bottom: height - 70 }
  g.fillStyle = '#ffffff'
  g.fillRect(0, 0, width, height)

  g.font = '11px sans-serif'
  g.textBaseline = 'middle'
  const y = (share: number) => plot.bottom - share * (plot.bottom - plot.top)
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    g.strokeStyle = tick === 0 ? '#888888' : '#e5e5e5'
    g.lineWidth = 1
    g.beginPath()
    g.moveTo(plot.left, y(tick))
    g.lineTo(plot.right, y(tick))
    g.stroke()
    g.fillStyle = '#666666'
    g.textAlign = 'right'
    g.fillText(`${tick * 100}%`, plot.left - 6, y(tick))
  }
  const step = weeks.length > 1 ? (plot.right - plot.left) / (weeks.length - 1) : 0
  const x = (i: number) => (weeks.length > 1 ? plot.left + i * step : (plot.left + plot.right) / 2)
  g.textAlign = 'center'
  weeks.forEach((w, i) => g.fillText(shortDay(w.week), x(i), plot.bottom + 14))

  for (const series of CHART_SERIES) {
    g.strokeStyle = series.color
    g.fillStyle = series.color
    g.lineWidth = 2.5
    let drawing = false
    g.beginPath()
    weeks.forEach((w, i) => {
      const value = w[series.metric]
      if (value === null) {
        drawing = false
        return
      }
      if (drawing) g.lineTo(x(i), y(value))
      else g.moveTo(x(i), y(value))
      drawing = true
    })
    g.stroke()
    weeks.forEach((w, i) => {
      const value = w[series.metric]
      if (value === null) return
      g.beginPath()
      g.arc(x(i), y(value), 3, 0, 2 * Math.PI)
      g.fill()
    })
  }

  // Legend, one row under the axis.
  g.textAlign = 'left'
  let lx = plot.left
  const ly = height - 24
  for (const series of CHART_SERIES) {
    g.fillStyle = series.color
    g.fillRect(lx, ly - 5, 14, 10)
    g.fillStyle = '#333333'
    g.fillText(series.label, lx + 20, ly)
    lx += 20 + g.measureText(series.label).width + 18
  }
  return canvas.encode('png')
}
