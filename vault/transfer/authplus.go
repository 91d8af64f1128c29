package transfer

import "fmt"

func (c *collector) readAuthPlus(data []byte) error {
	return fmt.Errorf("%w: Authenticator Plus backups are %w yet", ErrUnknownFormat, ErrUnsupported)
}
