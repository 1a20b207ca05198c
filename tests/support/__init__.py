"""What tests (and benchmarks) share; test modules import helpers from here and nowhere else.

- :mod:`tests.support.hq`: the one runner of a real HQ (``fieldkit-hq`` in subprocesses);
- :mod:`tests.support.fake_hq`: the one fake HQ for client tests (held to the real one by
  ``tests/integration/test_hq_contract.py``);
- :mod:`tests.support.device`: a field device without a vault, sealing real batches;
- :mod:`tests.support.vault`: vaults with the standard officers and passphrases, visits and
  synthetic applicants;
- :mod:`tests.support.postgres`: fresh databases on the real PostgreSQL server;
- :mod:`tests.support.reference`: roster files and HQ's signed reference document;
- :mod:`tests.support.checks`: checks more than one test makes;
- :mod:`tests.support.programs`: the programs here that tests run in a child process
  (``crash_writer``, ``plaintext_capture``, ``killable_sync``);
- :mod:`tests.support.faultproxy`: a fault-injecting HTTP proxy.
"""
