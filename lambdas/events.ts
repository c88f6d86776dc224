// POST /events/github, POST /events/gitlab and the EventBridge rule's findings (CONTRACT §13).
import { lambdaEventsHandler } from "../lib/runtime/lambda-events.ts";

export const handler = lambdaEventsHandler();
