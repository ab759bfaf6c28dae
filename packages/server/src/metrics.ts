import type { StoreStats } from '@credly/ledger'

/** Request counters and durations, rendered in the Prometheus text format. */
export class Metrics {
  private readonly requests = new Map<string, number>()
  private readonly durations = new Map<string, { sum: number; count: number }>()
  private readonly startedAt = Date.now()

  /** Counts one answered request. */
  record(operation: string, status: number, seconds: number): void {
    const key = `operation="${operation}",status="${status}"`
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1)
    const duration = this.durations.get(operation) ?? { sum: 0, count: 0 }
    duration.sum += seconds
    duration.count++
    this.durations.set(operation, duration)
  }

  /** The `/metrics` body. */
  render(store: StoreStats, storeKind: string): string {
    const lines = [
      '# HELP credly_up 1 while the server runs.',
      '# TYPE credly_up gauge',
      'credly_up 1',
      '# HELP credly_uptime_seconds Seconds since the server started.',
      '# TYPE credly_uptime_seconds gauge',
      `credly_uptime_seconds ${((Date.now() - this.startedAt) / 1000).toFixed(3)}`,
      '# HELP credly_http_requests_total Requests answered, by operation and status.',
      '# TYPE credly_http_requests_total counter',
      ...[...this.requests].map(
        ([labels, count]) => `credly_http_requests_total{${labels}} ${count}`,
      ),
      '# HELP credly_http_request_duration_seconds Time to answer, by operation.',
      '# TYPE credly_http_request_duration_seconds summary',
      ...[...this.durations].flatMap(([operation, { sum, count }]) => [
        `credly_http_request_duration_seconds_sum{operation="${operation}"} ${sum.toFixed(6)}`,
        `credly_http_request_duration_seconds_count{operation="${operation}"} ${count}`,
      ]),
      '# HELP credly_store_writes_total Ledger write operations committed.',
      '# TYPE credly_store_writes_total counter',
      `credly_store_writes_total{store="${storeKind}"} ${store.writes}`,
      '# HELP credly_store_commits_total Database transactions committed (group commit batches writes).',
      '# TYPE credly_store_commits_total counter',
      `credly_store_commits_total{store="${storeKind}"} ${store.commits}`,
      '# HELP credly_store_retries_total Units of work retried after a transient conflict.',
      '# TYPE credly_store_retries_total counter',
      `credly_store_retries_total{store="${storeKind}"} ${store.retries}`,
    ]
    return `${lines.join('\n')}\n`
  }
}
