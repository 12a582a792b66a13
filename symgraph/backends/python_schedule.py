"""The order in which the ``python`` backend writes a plan's array steps: values made
from inputs and constants alone are computed late, just before their first reader.

Owns :func:`sink`. The plan's schedule is id order, the order in which ``sg.grad``
appended the nodes, so a gradient's terms that need only the inputs (a weight decay's
``2 * lam * W`` of an MLP) come before the whole backward pass and keep a weight-sized
array alive through it. Moving such a step later never makes another value live longer:
it reads only inputs and constants (alive for the whole call anyway) or values that are
moved with it (read by it alone). Every value is the same (the steps are pure), only the
memory held at once shrinks.

Imports: nothing from symgraph (it works on the plan's lists).
"""

from __future__ import annotations

from collections.abc import Sequence


def sink(steps: Sequence[int], args: Sequence[Sequence[int]], readers: Sequence[list[int]],
         movable: Sequence[bool], kept: Sequence[bool]) -> tuple[list[int], list[list[int]]]:
    """``steps`` reordered, and the step numbers reading each slot in that order.

    ``movable[s]``: step ``s`` may move (an array step, say); ``kept[s]``: slot ``s`` is
    alive for the whole call (an input or a constant).

    - A movable step whose operands are kept, or *late* steps read by it alone, is late:
      written just before the first (in the new order) of its readers.
    - A movable step nobody reads (an output: alive to the end anyway) is written as
      soon as its operands that are not late are, so they die there.

    >>> # 0, 1 inputs; 2 = f(0) (movable), 3 = g(1), 4 = h(3), 5 = k(2, 4)
    >>> args = [[], [], [0], [1], [3], [2, 4]]
    >>> readers = [[0], [1], [3], [2], [3], []]
    >>> sink([2, 3, 4, 5], args, readers, [False, False, True, False, False, False],
    ...      [True, True, False, False, False, False])[0]
    [3, 4, 2, 5]
    """
    late = [False] * len(args)
    for t, s in enumerate(steps):
        if movable[s]:  # (loops, not all() over a generator: this runs on every compile)
            for i in args[s]:
                if not (kept[i] or (late[i] and len(readers[i]) == 1 and readers[i][0] == t)):
                    break
            else:
                late[s] = True
    if True not in late:
        return list(steps), [list(r) for r in readers]
    # every step that is not late gets a key (its position, or an output's place right
    # after its last operand); a late step goes just before the smallest key among its
    # readers (found from the last step back)
    key: dict[int, tuple[int, int]] = {}
    for t, s in enumerate(steps):
        if late[s]:
            continue
        if movable[s] and not readers[s]:
            key[s] = (max((key[i][0] for i in args[s] if i in key), default=t), t + 1)
        else:
            key[s] = (t, 0)
    users: dict[int, list[int]] = {}
    for s in steps:
        for i in dict.fromkeys(args[s]):
            if late[i]:
                users.setdefault(i, []).append(s)
    end = (len(steps), 0)
    anchor: dict[int, tuple[int, int]] = {}
    for s in reversed(steps):
        if late[s]:
            anchor[s] = min((anchor[r] if late[r] else key[r] for r in users.get(s, ())),
                            default=end)
    before: dict[tuple[int, int], list[int]] = {}
    for s in steps:  # (in order: a group keeps the plan's order, operands first)
        if late[s]:
            before.setdefault(anchor[s], []).append(s)
    order: list[int] = []
    for s in sorted(key, key=key.__getitem__):
        order += before.get(key[s], ())
        order.append(s)
    order += before.get(end, ())
    new_readers: list[list[int]] = [[] for _ in args]
    for t, s in enumerate(order):
        ins = args[s]
        for i in (ins if len(ins) == 1 or (len(ins) == 2 and ins[0] != ins[1])
                  else dict.fromkeys(ins)):
            new_readers[i].append(t)
    return order, new_readers
