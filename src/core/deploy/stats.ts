// The editor face still imports the request-log stats from here; they live in core/monitor now.
export { percentile, readRecords, requestStats, type RequestRecord, type RequestStats } from '../monitor/requestLog.ts';
