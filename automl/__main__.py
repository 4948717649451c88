from automl._stop import stop_before_start

stop_before_start()  # first: importing the command line takes a moment

from automl.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
