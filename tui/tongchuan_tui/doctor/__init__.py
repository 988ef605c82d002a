"""`tongchuan-tui doctor`'s checks: the network (network), the account and the service (probe), this machine
(machine), the answers' shape (answers), and the report they make (report). No UI and no pipeline: each check
is a plain function returning a `Check`; `run.run_doctor` makes them all."""
