// The class board, live: GET /api/class/events (Server-Sent Events) sends the whole board first
// (`class`), then each student who changed (`student`). The server decides who may read it: a
// browser that is not the teacher's gets 403, and the page says why.

/**
 * Opens the stream. `on.board(snapshot)` gets the whole board each time it changes, `on.state(state)`
 * 'live' or 'reconnecting', `on.refused(message)` when the server says this browser may not see it.
 */
export function openClassStream(on) {
  let board = null;
  let source = null;
  let stopped = false;

  const connect = () => {
    source = new EventSource('/api/class/events');
    source.addEventListener('open', () => on.state('live'));
    source.addEventListener('class', (message) => {
      board = JSON.parse(message.data);
      on.board(board);
    });
    source.addEventListener('student', (message) => {
      if (!board) return;
      const { student, updatedAt } = JSON.parse(message.data);
      const students = board.students.map((s) => (s.name === student.name ? student : s));
      board = { ...board, students, updatedAt };
      on.board(board);
    });
    source.addEventListener('error', () => {
      on.state('reconnecting');
      // The browser retries by itself unless the answer was not a stream (403 after signing out,
      // the server gone): ask why, then try again a little later.
      if (source.readyState !== EventSource.CLOSED || stopped) return;
      source.close();
      fetch('/api/class')
        .then((res) => (res.status === 403 ? res.json() : null))
        .then((refusal) => refusal && on.refused(refusal.error))
        .catch(() => undefined)
        .finally(() => setTimeout(connect, 3000));
    });
  };

  connect();
  return () => {
    stopped = true;
    source?.close();
  };
}
