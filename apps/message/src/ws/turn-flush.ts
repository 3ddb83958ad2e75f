// Work to finish once the current turn of the event loop is done, for everything that asked during
// it: one setImmediate for the whole turn (a fan-out corks hundreds of sockets; one timer each cost
// more than the frames).
export interface TurnEnd {
  endTurn(): void;
}

let waiting: TurnEnd[] = [];

function flush(): void {
  const due = waiting;
  waiting = [];
  for (const item of due) item.endTurn();
}

export function afterThisTurn(item: TurnEnd): void {
  if (waiting.push(item) === 1) setImmediate(flush);
}
