import type { ServiceModule } from '@switchyard/contracts';
import { registerDashboardRoutes } from './dashboard.ts';
import { type GatewayOptions, resolveGatewayOptions } from './domain.ts';
import { registerForwardRoutes } from './forward.ts';
import { installGatewayHooks } from './http.ts';

export type { GatewayOptions, Quota, Upstream } from './domain.ts';

/**
 * The gateway (sources C and E): security headers, CORS and rate limits on every route of the process,
 * and, in scale-out mode, forwarding of path prefixes to the instances that serve them.
 */
export function createGatewayService(options: GatewayOptions): ServiceModule {
  const resolved = resolveGatewayOptions(options);
  let closeForwarding = () => {};
  return {
    name: 'gateway',
    migrations: [],
    plugins(app, deps) {
      installGatewayHooks(app, resolved, deps);
    },
    async routes(app, deps) {
      await registerDashboardRoutes(app, resolved.dashboardDir);
      closeForwarding = registerForwardRoutes(app, resolved, {
        log: deps.log,
        metrics: deps.metrics,
        nowMs: () => deps.clock().getTime(),
      });
    },
    async close() {
      closeForwarding();
    },
  };
}
