// The one failure of the inventory: input that cannot be read as IAM data (a truncated or unknown
// credential report, JSON that is not get-account-authorization-details, an IAM call that failed).
// Its message is one line and names what was wrong; nothing is stored when it is thrown.
export class InventoryError extends Error {
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, " "));
    this.name = "InventoryError";
  }
}
