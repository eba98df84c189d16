/** What a call screen can do, by call id (the controller's CallActions; a test passes a recorder). */
export interface CallScreenActions {
  answer(id: string): void;
  decline(id: string): void;
  hangup(id: string): void;
  toggleMute(id: string): void;
  toggleHold(id: string): void;
  dtmf(id: string, key: string): void;
  swapTo(id: string): void;
  transfer(id: string, target: string): void;
  completeTransfer(id: string, otherId: string): void;
  dial(target: string, video?: boolean): Promise<void>;
}
