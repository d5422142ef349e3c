/** The stream the JSON log lines go to (stdout); tests provide their own to read them. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');
