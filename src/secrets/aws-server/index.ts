export { startAwsSecretsManagerServer, type AwsAction, type AwsServerKnobs, type AwsServerOptions, type AwsServerStats, type FaultKind, type RunningAwsServer } from './server.js';
export { runAwsServerCli, AWS_SERVER_USAGE } from './cli.js';
