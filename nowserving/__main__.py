from nowserving.cli.main import main

raise SystemExit(main())
