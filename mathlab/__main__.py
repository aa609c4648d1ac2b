from mathlab.cli import main

raise SystemExit(main())
