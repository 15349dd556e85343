from hubaudit.cli import main

raise SystemExit(main())
