from causalkit._cli import main

raise SystemExit(main())
