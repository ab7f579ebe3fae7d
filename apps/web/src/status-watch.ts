import type { LabConfig } from '@portlab/config';
import { type ServiceStatus, serviceStatuses } from '@portlab/service';

type Listener = (statuses: ServiceStatus[]) => void;

/**
 * Pushes the list of /api/services to the dashboards whenever it changes. It reads what each app
 * says of itself ($DATA/run/<app>.json, and whether its process is alive), not the `service`
 * transcript events: an app killed with SIGKILL writes no "stopped" event, but its run file then
 * names a dead process. Looking twice a second on the server costs a few small file reads, whatever
 * the number of browsers, and adds nothing to the HTTP transcript (a browser polling would).
 */
export class StatusWatch {
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | null = null;
  private last: ServiceStatus[] = [];
  private lastJson = '';

  constructor(
    private readonly config: LabConfig,
    private readonly intervalMs = 500,
  ) {}

  /** Calls `listener` now with the current list, then on every change. */
  subscribe(listener: Listener): () => void {
    if (!this.timer) {
      this.check();
      this.timer = setInterval(() => this.check(), this.intervalMs);
    }
    this.listeners.add(listener);
    listener(this.last);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  private check(): void {
    const statuses = serviceStatuses(this.config);
    const json = JSON.stringify(statuses);
    if (json === this.lastJson) return;
    this.last = statuses;
    this.lastJson = json;
    for (const l of this.listeners) l(statuses);
  }
}
