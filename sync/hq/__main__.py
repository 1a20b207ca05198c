"""``python -m sync.hq``: the same as the ``fieldkit-hq`` command."""

from sync.hq.cli import main

if __name__ == "__main__":
    main(prog_name="fieldkit-hq")
