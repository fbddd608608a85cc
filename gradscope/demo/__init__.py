"""``gradscope demo`` and what it trains.

- :mod:`~gradscope.demo.models`, :mod:`~gradscope.demo.tasks`: the built-in example models and
  seeded synthetic tasks (also imported by the scripts in the repository's ``demos/``);
- :mod:`~gradscope.demo.run`: train one in this process with a progress bar, then report;
- :mod:`~gradscope.demo.live`: in a terminal, the dashboard follows a training child process.

Nothing is imported here, so the live demo's dashboard process never loads torch.
"""
