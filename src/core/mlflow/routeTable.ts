import type { MlflowRoute } from './routes.ts';
import { trackingRoutes } from './tracking.ts';

/** Every endpoint `runboard serve` answers: each area adds its list here with one import. */
export const MLFLOW_ROUTES: readonly MlflowRoute[] = [...trackingRoutes];
