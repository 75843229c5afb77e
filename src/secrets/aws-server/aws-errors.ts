/**
 * An error answer of the local Secrets Manager server in the JSON 1.1 protocol's shape:
 * `{"__type": "<Code>", "message": "…"}` with the code in `x-amzn-ErrorType` as well, which is
 * what the AWS SDK reads to raise its modelled exception classes (ResourceNotFoundException, …).
 */
export class AwsApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'AwsApiError';
  }
}

export const notFound = (message: string) => new AwsApiError('ResourceNotFoundException', message);
export const invalidParameter = (message: string) => new AwsApiError('InvalidParameterException', message);
export const invalidRequest = (message: string) => new AwsApiError('InvalidRequestException', message);
export const resourceExists = (message: string) => new AwsApiError('ResourceExistsException', message);
