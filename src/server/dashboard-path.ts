/** Where bull-board is mounted. Its own file, so naming the path does not load bull-board. */
export const DASHBOARD_PATH = '/dashboard';
