"""One Kedro pipeline per architecture."""
