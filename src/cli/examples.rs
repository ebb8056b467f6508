//! The "Examples:" block at the end of each command's `--help` (and of the man page), kept
//! apart from the flag definitions so that adding a flag never touches an example.

pub const EXAMPLES_TOP: &str = "\
Examples:
  dialer demo                                   try it against the built-in sandbox
  dialer run contacts.csv --default-region SA --dry-run
  dialer --ledger spring.db status              every campaign in spring.db

Each command explains itself: dialer help run, dialer run --help.";

pub const EXAMPLES_RUN: &str = "\
Examples:
  dialer run contacts.csv --default-region SA --dry-run
  dialer run contacts.csv --rate 5/s --window 'mon-fri 09:00-20:00' \\
      --window 'sat 10:00-14:00' --holidays holidays.txt --suppress dnc.txt
  dialer run leads.csv --campaign spring --map 'Mobile Nr=numberToCall' \\
      --template 0b6c2f0e-8d1a-4c3e-9f5a-2d7e6b1c4a90 --meta project=spring

A `name` or `full_name` column fills the names when the file has no first/last name
column: \"Sara Al Harbi\" becomes firstName \"Sara\", lastName \"Al Harbi\" (one word: only
firstName). The dry run's first request bodies show what will be sent.

Run it again with other flags to fix a campaign (a forgotten --default-region, a new
--suppress list, another --template): the rows not yet dialed get the new settings, one
line per change says how many; a row already dialed is never touched. A file that only
gained rows at its end continues its campaign with them.";

pub const EXAMPLES_RESUME: &str = "\
Examples:
  dialer resume                                 the only unfinished campaign
  dialer resume spring --rate 2/s --window 10:00-16:00
  dialer --ledger spring.db resume spring --limit 500";

pub const EXAMPLES_RETRY: &str = "\
Examples:
  dialer retry spring                           re-dial the failed rows
  dialer retry spring --status failed,uncertain --retry-uncertain
  dialer retry spring --outcome undelivered --min-age 2h --max-calls 3
  dialer retry spring --template 0b6c3d1e-5d8f-4f61-9a57-2f1f0c6a9e10   refused rows, new template
  dialer retry spring --status skipped          plan the skipped rows again and dial those now dialable";

pub const EXAMPLES_PAUSE: &str = "\
Examples:
  dialer pause spring                           the run stops starting calls within a second
  dialer resume spring                          lift the pause and continue";

pub const EXAMPLES_CANCEL: &str = "\
Examples:
  dialer cancel spring                          rows not yet dialed become cancelled
  dialer retry spring --status cancelled        dial them after all";

pub const EXAMPLES_STATUS: &str = "\
Examples:
  dialer status                                 every campaign in ./dialer.db
  dialer status spring --json | jq .counts
  dialer status spring --row 42                 one row and its attempts";

pub const EXAMPLES_WEBHOOK: &str = "\
Examples:
  LEVERS_WEBHOOK_SECRET=whsec_... dialer webhook
  dialer webhook --listen 127.0.0.1:9000 --secret-file /etc/dialer/webhook.secret
  dialer --ledger spring.db webhook --path /hooks/levers";

pub const EXAMPLES_DASHBOARD: &str = "\
Examples:
  dialer dashboard                              http://127.0.0.1:8790/ on this machine
  DIALER_DASHBOARD_TOKEN=... dialer dashboard --listen 0.0.0.0:8790
  dialer --ledger spring.db webhook --dashboard 127.0.0.1:8790

With a token, open http://HOST:8790/#token=... once; pause and cancel appear then.";

pub const EXAMPLES_REPORT: &str = "\
Examples:
  dialer report spring --out spring.html
  dialer report spring --status failed,uncertain --out to-check.csv
  dialer report spring --format jsonl | jq .phone";

pub const EXAMPLES_SANDBOX: &str = "\
Examples:
  dialer sandbox                                on 127.0.0.1:8788
  dialer sandbox --latency 20ms..80ms --fail-503 0.05 --rate-cap 20
  dialer sandbox --webhook-url http://127.0.0.1:8787/webhooks/levers --time-scale 0.01";

pub const EXAMPLES_DEMO: &str = "\
Examples:
  dialer demo                                   ends with the commands that look at its ledger
  dialer --ledger demo.db demo                  the ledger in ./demo.db, not in a temp directory
  dialer demo --rate 50/s --report demo.html";

pub const EXAMPLES_COMPLETIONS: &str = "\
Examples:
  source <(dialer completions bash)             this bash session only
  dialer completions bash > ~/.local/share/bash-completion/completions/dialer
  dialer completions zsh > ~/.zfunc/_dialer     with fpath+=~/.zfunc in ~/.zshrc
  dialer completions fish > ~/.config/fish/completions/dialer.fish";

pub const EXAMPLES_MANPAGE: &str = "\
Examples:
  dialer manpage | man -l -                     read it now
  dialer manpage > ~/.local/share/man/man1/dialer.1
  dialer manpage --dir ~/.local/share/man/man1  one page per command too (man dialer-run)";
